// Thin Node binding over tpm2-tss (ESYS + TCTI loader + MU) for device attestation.
// Everything here is synchronous and stateless between calls except the AK handles the caller
// loads: there may be no resource manager (swtpm over TCP), so every transient object and
// session this file creates is flushed before the call returns, or the TPM runs out of slots
// (0x902) after a few calls. Errors carry a stable `code` the TypeScript loader maps to
// GatehouseError codes, plus the raw `rc` and tpm2-tss's decoded text.
#include <napi.h>

#include <tss2/tss2_esys.h>
#include <tss2/tss2_mu.h>
#include <tss2/tss2_rc.h>
#include <tss2/tss2_tctildr.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <set>
#include <string>
#include <unistd.h>
#include <vector>

namespace {

constexpr TPM2_HANDLE kEkCertRsaIndex = 0x01c00002;
constexpr TPM2_HANDLE kEkCertEccIndex = 0x01c0000a;

// PolicySecret(TPM_RH_ENDORSEMENT) with SHA-256: the authPolicy of the TCG default EK templates.
const uint8_t kEkPolicy[32] = {0x83, 0x71, 0x97, 0x67, 0x44, 0x84, 0xb3, 0xf8, 0x1a, 0x90, 0xcc,
                               0x8d, 0x46, 0xa5, 0xd7, 0x24, 0xfd, 0x52, 0xd7, 0x6e, 0x06, 0x52,
                               0x0b, 0x64, 0xf2, 0xa1, 0xda, 0x1b, 0x33, 0x14, 0x69, 0xaa};

[[noreturn]] void ThrowCoded(Napi::Env env, const std::string& code, const std::string& msg, TSS2_RC rc = 0) {
  Napi::Error err = Napi::Error::New(env, msg);
  err.Set("code", Napi::String::New(env, code));
  if (rc != 0) {
    err.Set("rc", Napi::Number::New(env, rc));
    err.Set("rcText", Napi::String::New(env, Tss2_RC_Decode(rc)));
  }
  throw err;
}

bool IsTpmLayer(TSS2_RC rc) { return (rc & TSS2_RC_LAYER_MASK) == 0; }

// Format-one TPM codes carry the handle/parameter/session number in bits 6..11; strip them.
TSS2_RC TpmBase(TSS2_RC rc) { return (rc & TPM2_RC_FMT1) ? (rc & (TPM2_RC_FMT1 | 0x3f)) : (rc & 0xfff); }

// The ways a stored key blob stops matching this TPM (other TPM, cleared hierarchy, new EK).
bool IsBindingClass(TSS2_RC rc) {
  if (!IsTpmLayer(rc)) return false;
  TSS2_RC b = TpmBase(rc);
  return b == TPM2_RC_BINDING || b == TPM2_RC_INTEGRITY || b == TPM2_RC_SENSITIVE || b == TPM2_RC_KEY;
}

std::string CodeFor(TSS2_RC rc) {
  if (!IsTpmLayer(rc)) {
    TSS2_RC base = rc & 0xffff;
    if ((rc & TSS2_RC_LAYER_MASK) == TSS2_TCTI_RC_LAYER || base == TSS2_BASE_RC_IO_ERROR ||
        base == TSS2_BASE_RC_NO_CONNECTION)
      return "TPM_UNAVAILABLE";
    if (base == TSS2_BASE_RC_TRY_AGAIN) return "TPM_BUSY";
    return "TPM_ERROR";
  }
  TSS2_RC b = TpmBase(rc);
  if (b == TPM2_RC_LOCKOUT) return "TPM_LOCKOUT";
  if (b == TPM2_RC_RETRY || b == TPM2_RC_YIELDED || b == TPM2_RC_TESTING || b == TPM2_RC_NV_RATE ||
      b == TPM2_RC_OBJECT_MEMORY || b == TPM2_RC_SESSION_MEMORY)
    return "TPM_BUSY";
  return "TPM_ERROR";
}

void Check(Napi::Env env, TSS2_RC rc, const char* what, bool bindingMatters = false) {
  if (rc == TSS2_RC_SUCCESS) return;
  std::string code = (bindingMatters && IsBindingClass(rc)) ? "TPM_BINDING" : CodeFor(rc);
  char hex[16];
  snprintf(hex, sizeof hex, "0x%x", rc);
  ThrowCoded(env, code, std::string(what) + " failed: " + Tss2_RC_Decode(rc) + " (" + hex + ")", rc);
}

// Flushes a transient object or session when the scope ends, whatever happened in between.
struct Transient {
  ESYS_CONTEXT* ctx;
  ESYS_TR tr = ESYS_TR_NONE;
  explicit Transient(ESYS_CONTEXT* c) : ctx(c) {}
  Transient(const Transient&) = delete;
  Transient& operator=(const Transient&) = delete;
  ~Transient() {
    if (tr == ESYS_TR_NONE) return;
    // A session the TPM already closed makes the flush fail; still free ESYS's record of it.
    if (Esys_FlushContext(ctx, tr) != TSS2_RC_SUCCESS) Esys_TR_Close(ctx, &tr);
  }
};

template <typename T>
Napi::Buffer<uint8_t> Marshal(Napi::Env env, const T* value, TSS2_RC (*fn)(const T*, uint8_t*, size_t, size_t*),
                              const char* what) {
  std::vector<uint8_t> buf(sizeof(T) + 16);
  size_t off = 0;
  Check(env, fn(value, buf.data(), buf.size(), &off), what);
  return Napi::Buffer<uint8_t>::Copy(env, buf.data(), off);
}

template <typename T>
T Unmarshal(Napi::Env env, const Napi::Value& v, TSS2_RC (*fn)(const uint8_t*, size_t, size_t*, T*),
            const char* what, bool bindingMatters = false) {
  if (!v.IsBuffer()) ThrowCoded(env, "TPM_BAD_INPUT", std::string(what) + " must be a Buffer");
  auto b = v.As<Napi::Buffer<uint8_t>>();
  T out{};
  size_t off = 0;
  TSS2_RC rc = fn(b.Data(), b.Length(), &off, &out);
  if (rc != TSS2_RC_SUCCESS || off != b.Length())
    ThrowCoded(env, bindingMatters ? "TPM_BINDING" : "TPM_BAD_INPUT", std::string(what) + " is not well-formed");
  return out;
}

template <typename T2B>
T2B FillT2B(Napi::Env env, const Napi::Value& v, const char* what) {
  if (!v.IsBuffer()) ThrowCoded(env, "TPM_BAD_INPUT", std::string(what) + " must be a Buffer");
  auto b = v.As<Napi::Buffer<uint8_t>>();
  T2B out{};
  if (b.Length() > sizeof(out) - sizeof(out.size))
    ThrowCoded(env, "TPM_BAD_INPUT", std::string(what) + " is too long (" + std::to_string(b.Length()) + " bytes)");
  out.size = static_cast<uint16_t>(b.Length());
  memcpy(reinterpret_cast<uint8_t*>(&out) + sizeof(out.size), b.Data(), b.Length());
  return out;
}

TPM2B_PUBLIC EkTemplate() {
  TPM2B_PUBLIC t{};
  TPMT_PUBLIC& p = t.publicArea;
  p.type = TPM2_ALG_RSA;
  p.nameAlg = TPM2_ALG_SHA256;
  p.objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_SENSITIVEDATAORIGIN |
                       TPMA_OBJECT_ADMINWITHPOLICY | TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT;
  p.authPolicy.size = sizeof kEkPolicy;
  memcpy(p.authPolicy.buffer, kEkPolicy, sizeof kEkPolicy);
  p.parameters.rsaDetail.symmetric.algorithm = TPM2_ALG_AES;
  p.parameters.rsaDetail.symmetric.keyBits.aes = 128;
  p.parameters.rsaDetail.symmetric.mode.aes = TPM2_ALG_CFB;
  p.parameters.rsaDetail.scheme.scheme = TPM2_ALG_NULL;
  p.parameters.rsaDetail.keyBits = 2048;
  p.parameters.rsaDetail.exponent = 0;
  p.unique.rsa.size = 256;  // zero-filled: part of the TCG template, so the EK matches its certificate
  return t;
}

TPM2B_PUBLIC AkTemplate() {
  TPM2B_PUBLIC t{};
  TPMT_PUBLIC& p = t.publicArea;
  p.type = TPM2_ALG_RSA;
  p.nameAlg = TPM2_ALG_SHA256;
  p.objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_SENSITIVEDATAORIGIN |
                       TPMA_OBJECT_USERWITHAUTH | TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_SIGN_ENCRYPT;
  p.parameters.rsaDetail.symmetric.algorithm = TPM2_ALG_NULL;
  p.parameters.rsaDetail.scheme.scheme = TPM2_ALG_RSASSA;
  p.parameters.rsaDetail.scheme.details.rsassa.hashAlg = TPM2_ALG_SHA256;
  p.parameters.rsaDetail.keyBits = 2048;
  p.parameters.rsaDetail.exponent = 0;
  return t;
}

class Tpm : public Napi::ObjectWrap<Tpm> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Tpm",
                       {InstanceMethod("close", &Tpm::Close), InstanceMethod("readEkCert", &Tpm::ReadEkCert),
                        InstanceMethod("ekPublic", &Tpm::EkPublic), InstanceMethod("createAk", &Tpm::CreateAk),
                        InstanceMethod("loadAk", &Tpm::LoadAk), InstanceMethod("flush", &Tpm::Flush),
                        InstanceMethod("activateCredential", &Tpm::ActivateCredential),
                        InstanceMethod("quote", &Tpm::Quote), InstanceMethod("pcrRead", &Tpm::PcrRead)});
  }

  explicit Tpm(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Tpm>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsString()) ThrowCoded(env, "TPM_BAD_INPUT", "open(tcti): tcti must be a string");
    std::string conf = info[0].As<Napi::String>();
    CheckDeviceAccess(env, conf);
    TSS2_RC rc = Tss2_TctiLdr_Initialize(conf.c_str(), &tcti_);
    if (rc != TSS2_RC_SUCCESS) {
      tcti_ = nullptr;
      ThrowCoded(env, "TPM_UNAVAILABLE", "cannot reach the TPM at \"" + conf + "\": " + Tss2_RC_Decode(rc), rc);
    }
    rc = Esys_Initialize(&ctx_, tcti_, nullptr);
    if (rc != TSS2_RC_SUCCESS) {
      ctx_ = nullptr;
      Release();
      ThrowCoded(env, "TPM_UNAVAILABLE", "cannot talk to the TPM at \"" + conf + "\": " + Tss2_RC_Decode(rc), rc);
    }
    // A started TPM answers TPM_RC_INITIALIZE (and kernel resource managers may refuse the
    // command); only a transport failure here means there is no TPM to talk to.
    rc = Esys_Startup(ctx_, TPM2_SU_CLEAR);
    if (rc != TSS2_RC_SUCCESS && !IsTpmLayer(rc) && CodeFor(rc) == "TPM_UNAVAILABLE") {
      Release();
      ThrowCoded(env, "TPM_UNAVAILABLE", "no TPM answers at \"" + conf + "\": " + Tss2_RC_Decode(rc), rc);
    }
  }

  ~Tpm() override { Release(); }

 private:
  ESYS_CONTEXT* ctx_ = nullptr;
  TSS2_TCTI_CONTEXT* tcti_ = nullptr;
  std::set<ESYS_TR> loaded_;  // AKs the caller loaded and has not flushed yet

  static void CheckDeviceAccess(Napi::Env env, const std::string& conf) {
    if (conf.rfind("device:", 0) != 0 && conf != "device") return;
    std::string path = conf.size() > 7 ? conf.substr(7) : "/dev/tpmrm0";
    if (access(path.c_str(), R_OK | W_OK) == 0) return;
    if (errno == EACCES || errno == EPERM)
      ThrowCoded(env, "TPM_PERMISSION_DENIED",
                 "Failed to open the TPM device " + path +
                     ". Add your user to the `tss` group (sudo usermod -aG tss $USER, then log in again) or "
                     "install udev rules that grant access to " + path + " (tpm2-tss ships tpm-udev.rules).");
    ThrowCoded(env, "TPM_UNAVAILABLE", "no TPM device at " + path + ": " + strerror(errno));
  }

  void Release() {
    if (ctx_) {
      for (ESYS_TR tr : loaded_) Esys_FlushContext(ctx_, tr);
      loaded_.clear();
      Esys_Finalize(&ctx_);
      ctx_ = nullptr;
    }
    if (tcti_) {
      Tss2_TctiLdr_Finalize(&tcti_);
      tcti_ = nullptr;
    }
  }

  ESYS_CONTEXT* Ctx(Napi::Env env) {
    if (!ctx_) ThrowCoded(env, "TPM_CLOSED", "the TPM connection is closed");
    return ctx_;
  }

  // The EK from the TCG default RSA template: same key as the one the EK certificate is for.
  void CreateEk(Napi::Env env, Transient& ek, TPM2B_PUBLIC** outPublic) {
    TPM2B_SENSITIVE_CREATE sens{};
    TPM2B_PUBLIC tmpl = EkTemplate();
    TPM2B_DATA outside{};
    TPML_PCR_SELECTION pcrs{};
    TPM2B_PUBLIC* pub = nullptr;
    Check(env,
          Esys_CreatePrimary(ctx_, ESYS_TR_RH_ENDORSEMENT, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &sens, &tmpl,
                             &outside, &pcrs, &ek.tr, &pub, nullptr, nullptr, nullptr),
          "CreatePrimary(EK)");
    if (outPublic) *outPublic = pub;
    else Esys_Free(pub);
  }

  // A policy session satisfying the EK's policy, PolicySecret(TPM_RH_ENDORSEMENT).
  void EndorsementSession(Napi::Env env, Transient& session) {
    TPMT_SYM_DEF sym{};
    sym.algorithm = TPM2_ALG_NULL;
    Check(env,
          Esys_StartAuthSession(ctx_, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, nullptr,
                                TPM2_SE_POLICY, &sym, TPM2_ALG_SHA256, &session.tr),
          "StartAuthSession");
    TPM2B_NONCE nonce{};
    TPM2B_DIGEST cpHash{};
    TPM2B_NONCE ref{};
    Check(env,
          Esys_PolicySecret(ctx_, ESYS_TR_RH_ENDORSEMENT, session.tr, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE,
                            &nonce, &cpHash, &ref, 0, nullptr, nullptr),
          "PolicySecret(endorsement)");
  }

  ESYS_TR AkArg(Napi::Env env, const Napi::Value& v) {
    if (!v.IsNumber()) ThrowCoded(env, "TPM_BAD_INPUT", "akHandle must be a number from loadAk()");
    ESYS_TR tr = v.As<Napi::Number>().Uint32Value();
    if (!loaded_.count(tr)) ThrowCoded(env, "TPM_BAD_INPUT", "akHandle is not a loaded AK (flushed or never loaded)");
    return tr;
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    Release();
    return info.Env().Undefined();
  }

  Napi::Value ReadNv(Napi::Env env, TPM2_HANDLE index) {
    ESYS_CONTEXT* ctx = Ctx(env);
    ESYS_TR nv = ESYS_TR_NONE;
    TSS2_RC rc = Esys_TR_FromTPMPublic(ctx, index, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &nv);
    if (rc != TSS2_RC_SUCCESS) {
      if (IsTpmLayer(rc) && TpmBase(rc) == TPM2_RC_HANDLE) return env.Null();  // index not defined
      Check(env, rc, "reading the EK certificate index");
    }
    struct CloseNv {
      ESYS_CONTEXT* c;
      ESYS_TR* t;
      ~CloseNv() { Esys_TR_Close(c, t); }
    } closer{ctx, &nv};
    TPM2B_NV_PUBLIC* nvPub = nullptr;
    Check(env, Esys_NV_ReadPublic(ctx, nv, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &nvPub, nullptr), "NV_ReadPublic");
    uint16_t total = nvPub->nvPublic.dataSize;
    Esys_Free(nvPub);
    std::vector<uint8_t> data;
    const uint16_t chunk = 512;  // below every TPM's NV buffer maximum (1024 on most)
    // EK certificate indices are owner-readable with the (usually empty) owner password.
    for (uint16_t off = 0; off < total;) {
      uint16_t n = std::min<uint16_t>(chunk, total - off);
      TPM2B_MAX_NV_BUFFER* part = nullptr;
      Check(env, Esys_NV_Read(ctx, ESYS_TR_RH_OWNER, nv, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, n, off, &part),
            "NV_Read(EK certificate)");
      data.insert(data.end(), part->buffer, part->buffer + part->size);
      off += part->size;
      bool empty = part->size == 0;
      Esys_Free(part);
      if (empty) break;
    }
    return Napi::Buffer<uint8_t>::Copy(env, data.data(), data.size());
  }

  Napi::Value ReadEkCert(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Value rsa = ReadNv(env, kEkCertRsaIndex);
    if (!rsa.IsNull()) return rsa;
    return ReadNv(env, kEkCertEccIndex);
  }

  Napi::Value EkPublic(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Ctx(env);
    Transient ek(ctx_);
    TPM2B_PUBLIC* pub = nullptr;
    CreateEk(env, ek, &pub);
    TPMT_PUBLIC area = pub->publicArea;
    Esys_Free(pub);
    return Marshal<TPMT_PUBLIC>(env, &area, Tss2_MU_TPMT_PUBLIC_Marshal, "marshal EK public");
  }

  Napi::Value CreateAk(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Ctx(env);
    Transient ek(ctx_);
    CreateEk(env, ek, nullptr);
    Transient session(ctx_);
    EndorsementSession(env, session);

    TPM2B_SENSITIVE_CREATE sens{};
    TPM2B_PUBLIC tmpl = AkTemplate();
    TPM2B_DATA outside{};
    TPML_PCR_SELECTION pcrs{};
    TPM2B_PRIVATE* priv = nullptr;
    TPM2B_PUBLIC* pub = nullptr;
    TPM2B_CREATION_DATA* creation = nullptr;
    TPM2B_DIGEST* creationHash = nullptr;
    TPMT_TK_CREATION* ticket = nullptr;
    Check(env,
          Esys_Create(ctx_, ek.tr, session.tr, ESYS_TR_NONE, ESYS_TR_NONE, &sens, &tmpl, &outside, &pcrs, &priv, &pub,
                      &creation, &creationHash, &ticket),
          "Create(AK)");
    struct FreeAll {
      void* p[5];
      ~FreeAll() {
        for (void* x : p) Esys_Free(x);
      }
    } freer{{priv, pub, creation, creationHash, ticket}};

    // CertifyCreation by the AK itself proves the TPM made this key with the creation data above.
    // A policy session's digest resets after each use: Load needs a freshly satisfied one.
    Transient loadSession(ctx_);
    EndorsementSession(env, loadSession);
    Transient ak(ctx_);
    Check(env, Esys_Load(ctx_, ek.tr, loadSession.tr, ESYS_TR_NONE, ESYS_TR_NONE, priv, pub, &ak.tr), "Load(AK)");
    TPM2B_DATA qualifying{};
    TPMT_SIG_SCHEME scheme{};
    scheme.scheme = TPM2_ALG_NULL;
    TPM2B_ATTEST* attest = nullptr;
    TPMT_SIGNATURE* sig = nullptr;
    Check(env,
          Esys_CertifyCreation(ctx_, ak.tr, ak.tr, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &qualifying,
                               creationHash, &scheme, ticket, &attest, &sig),
          "CertifyCreation(AK)");

    Napi::Object out = Napi::Object::New(env);
    out.Set("public", Marshal<TPM2B_PUBLIC>(env, pub, Tss2_MU_TPM2B_PUBLIC_Marshal, "marshal AK public"));
    out.Set("private", Marshal<TPM2B_PRIVATE>(env, priv, Tss2_MU_TPM2B_PRIVATE_Marshal, "marshal AK private"));
    out.Set("creationData",
            Marshal<TPMS_CREATION_DATA>(env, &creation->creationData, Tss2_MU_TPMS_CREATION_DATA_Marshal,
                                        "marshal creation data"));
    out.Set("creationAttest", Napi::Buffer<uint8_t>::Copy(env, attest->attestationData, attest->size));
    out.Set("creationSignature", Marshal<TPMT_SIGNATURE>(env, sig, Tss2_MU_TPMT_SIGNATURE_Marshal, "marshal signature"));
    Esys_Free(attest);
    Esys_Free(sig);
    return out;
  }

  Napi::Value LoadAk(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Ctx(env);
    TPM2B_PUBLIC pub = Unmarshal<TPM2B_PUBLIC>(env, info[0], Tss2_MU_TPM2B_PUBLIC_Unmarshal, "AK public", true);
    TPM2B_PRIVATE priv = Unmarshal<TPM2B_PRIVATE>(env, info[1], Tss2_MU_TPM2B_PRIVATE_Unmarshal, "AK private", true);
    Transient ek(ctx_);
    CreateEk(env, ek, nullptr);
    Transient session(ctx_);
    EndorsementSession(env, session);
    ESYS_TR ak = ESYS_TR_NONE;
    Check(env, Esys_Load(ctx_, ek.tr, session.tr, ESYS_TR_NONE, ESYS_TR_NONE, &priv, &pub, &ak), "Load(AK)", true);
    loaded_.insert(ak);
    return Napi::Number::New(env, ak);
  }

  Napi::Value Flush(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    ESYS_TR ak = AkArg(env, info[0]);
    loaded_.erase(ak);
    Check(env, Esys_FlushContext(Ctx(env), ak), "FlushContext(AK)");
    return env.Undefined();
  }

  Napi::Value ActivateCredential(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Ctx(env);
    ESYS_TR ak = AkArg(env, info[0]);
    TPM2B_ID_OBJECT blob = FillT2B<TPM2B_ID_OBJECT>(env, info[1], "credentialBlob");
    TPM2B_ENCRYPTED_SECRET secret = FillT2B<TPM2B_ENCRYPTED_SECRET>(env, info[2], "encryptedSecret");
    Transient ek(ctx_);
    CreateEk(env, ek, nullptr);
    Transient session(ctx_);
    EndorsementSession(env, session);
    TPM2B_DIGEST* cert = nullptr;
    Check(env,
          Esys_ActivateCredential(ctx_, ak, ek.tr, ESYS_TR_PASSWORD, session.tr, ESYS_TR_NONE, &blob, &secret, &cert),
          "ActivateCredential");
    Napi::Buffer<uint8_t> out = Napi::Buffer<uint8_t>::Copy(env, cert->buffer, cert->size);
    Esys_Free(cert);
    return out;
  }

  static TPML_PCR_SELECTION Sha256Selection(Napi::Env env, const Napi::Value& v) {
    if (!v.IsArray()) ThrowCoded(env, "TPM_BAD_INPUT", "pcrs must be an array of numbers");
    Napi::Array list = v.As<Napi::Array>();
    TPML_PCR_SELECTION sel{};
    sel.count = 1;
    sel.pcrSelections[0].hash = TPM2_ALG_SHA256;
    sel.pcrSelections[0].sizeofSelect = 3;
    for (uint32_t i = 0; i < list.Length(); i++) {
      Napi::Value e = list.Get(i);
      uint32_t pcr = e.IsNumber() ? e.As<Napi::Number>().Uint32Value() : 99;
      if (!e.IsNumber() || pcr > 23) ThrowCoded(env, "TPM_BAD_INPUT", "PCR indices must be numbers 0..23");
      sel.pcrSelections[0].pcrSelect[pcr / 8] |= static_cast<uint8_t>(1u << (pcr % 8));
    }
    return sel;
  }

  // TPM2_PCR_Read returns at most 8 digests per call (TPML_DIGEST); ask again for the rest.
  Napi::Value PcrRead(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Ctx(env);
    TPML_PCR_SELECTION want = Sha256Selection(env, info[0]);
    std::vector<std::vector<uint8_t>> values(24);
    auto pending = [&want]() {
      for (int i = 0; i < 3; i++)
        if (want.pcrSelections[0].pcrSelect[i]) return true;
      return false;
    };
    while (pending()) {
      TPML_PCR_SELECTION* got = nullptr;
      TPML_DIGEST* digests = nullptr;
      Check(env, Esys_PCR_Read(ctx_, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &want, nullptr, &got, &digests),
            "PCR_Read");
      uint32_t next = 0, read = 0;
      for (uint32_t b = 0; b < got->count; b++) {
        const TPMS_PCR_SELECTION& s = got->pcrSelections[b];
        if (s.hash != TPM2_ALG_SHA256) continue;
        for (uint32_t pcr = 0; pcr < 24 && pcr / 8 < s.sizeofSelect; pcr++) {
          if (!(s.pcrSelect[pcr / 8] & (1u << (pcr % 8))) || next >= digests->count) continue;
          const TPM2B_DIGEST& d = digests->digests[next++];
          values[pcr].assign(d.buffer, d.buffer + d.size);
          want.pcrSelections[0].pcrSelect[pcr / 8] &= static_cast<uint8_t>(~(1u << (pcr % 8)));
          read++;
        }
      }
      Esys_Free(got);
      Esys_Free(digests);
      // A TPM without an (allocated) SHA-256 bank answers with an empty selection.
      if (read == 0) ThrowCoded(env, "TPM_ERROR", "PCR_Read returned no SHA-256 values (is the SHA-256 bank allocated?)");
    }
    Napi::Array out = Napi::Array::New(env);
    uint32_t n = 0;
    for (uint32_t pcr = 0; pcr < 24; pcr++)
      if (!values[pcr].empty()) out.Set(n++, Napi::Buffer<uint8_t>::Copy(env, values[pcr].data(), values[pcr].size()));
    return out;
  }

  Napi::Value Quote(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Ctx(env);
    ESYS_TR ak = AkArg(env, info[0]);
    TPM2B_DATA nonce = FillT2B<TPM2B_DATA>(env, info[1], "nonce");
    if (info.Length() < 3 || !info[2].IsArray()) ThrowCoded(env, "TPM_BAD_INPUT", "pcrs must be an array of numbers");
    TPML_PCR_SELECTION sel = Sha256Selection(env, info[2]);
    TPMT_SIG_SCHEME scheme{};
    scheme.scheme = TPM2_ALG_NULL;  // a restricted key signs with its own scheme
    TPM2B_ATTEST* attest = nullptr;
    TPMT_SIGNATURE* sig = nullptr;
    Check(env,
          Esys_Quote(ctx_, ak, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &nonce, &scheme, &sel, &attest, &sig),
          "Quote");
    Napi::Object out = Napi::Object::New(env);
    out.Set("attest", Napi::Buffer<uint8_t>::Copy(env, attest->attestationData, attest->size));
    out.Set("signature", Marshal<TPMT_SIGNATURE>(env, sig, Tss2_MU_TPMT_SIGNATURE_Marshal, "marshal signature"));
    Esys_Free(attest);
    Esys_Free(sig);
    return out;
  }
};

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  // tpm2-tss logs every TPM error to stderr; the errors reach JS with their decoded text instead.
  setenv("TSS2_LOG", "all+NONE", 0);
  Napi::Function ctor = Tpm::Define(env);
  exports.Set("Tpm", ctor);
  exports.Set("platform", Napi::String::New(env, "linux"));
  return exports;
}

}  // namespace

NODE_API_MODULE(gatehouse_tpm, Init)
