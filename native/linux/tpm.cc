// Thin Node binding over tpm2-tss (ESYS + TCTI loader + MU) for device attestation.
// Every method that talks to the TPM returns a Promise and runs on a libuv worker thread: a real
// TPM takes seconds to make an EK, which must not freeze Electron's main thread. An ESYS context
// is not thread-safe, so each Tpm holds a mutex that every worker takes for its whole operation
// (the TypeScript client also queues its calls, so workers rarely wait on it). Worker threads
// only see plain C++ data; JS values (Buffers, errors) are made in OnOK/OnError on the JS thread.
// There may be no resource manager (swtpm over TCP), so every transient object and session this
// file creates is flushed before the operation ends, or the TPM runs out of slots (0x902) after a
// few calls. Errors carry a stable `code` the TypeScript loader maps to GatehouseError codes, plus
// the raw `rc` and tpm2-tss's decoded text.
#include "tss-helpers.h"

#include <atomic>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace {

class Tpm;

// Runs on the JS thread once the work is done: turns its plain result into JS values.
using MakeResult = std::function<Napi::Value(Napi::Env)>;
// Runs on a worker thread with the Tpm's mutex held.
using Work = std::function<MakeResult(Tpm&)>;

class TpmWorker : public Napi::AsyncWorker {
 public:
  TpmWorker(Napi::Env env, Napi::Object self, Tpm& tpm, Work work)
      : Napi::AsyncWorker(env, "gatehouse:tpm"),
        deferred_(Napi::Promise::Deferred::New(env)),
        self_(Napi::Persistent(self)),  // keeps the Tpm alive (not garbage-collected) while queued
        tpm_(tpm),
        work_(std::move(work)) {}

  Napi::Promise Promise() const { return deferred_.Promise(); }

 protected:
  void Execute() override;
  void OnOK() override { deferred_.Resolve(result_(Env())); }
  void OnError(const Napi::Error&) override { deferred_.Reject(ToJs(Env(), failure_).Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  Napi::ObjectReference self_;
  Tpm& tpm_;
  Work work_;
  MakeResult result_;
  Failure failure_;
};

class Tpm : public Napi::ObjectWrap<Tpm> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Tpm",
                       {InstanceMethod("open", &Tpm::Open), InstanceMethod("close", &Tpm::Close),
                        InstanceMethod("readEkCert", &Tpm::ReadEkCert), InstanceMethod("ekPublic", &Tpm::EkPublic),
                        InstanceMethod("createAk", &Tpm::CreateAk), InstanceMethod("loadAk", &Tpm::LoadAk),
                        InstanceMethod("flush", &Tpm::Flush),
                        InstanceMethod("activateCredential", &Tpm::ActivateCredential),
                        InstanceMethod("quote", &Tpm::Quote), InstanceMethod("pcrRead", &Tpm::PcrRead),
                        InstanceMethod("getInfo", &Tpm::GetInfo),
                        InstanceMethod("ekCreations", &Tpm::EkCreations)});
  }

  // Only records the TCTI; open() connects, on a worker thread.
  explicit Tpm(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Tpm>(info) {
    if (info.Length() < 1 || !info[0].IsString()) {
      throw ToJs(info.Env(), Failure{"TPM_BAD_INPUT", "new Tpm(tcti): tcti must be a string"});
    }
    conf_ = info[0].As<Napi::String>().Utf8Value();
  }

  // The finalizer runs on the JS thread, and no worker is in flight (each holds a reference).
  ~Tpm() override { Release(); }

  std::mutex mu;

 private:
  std::string conf_;
  ESYS_CONTEXT* ctx_ = nullptr;
  TSS2_TCTI_CONTEXT* tcti_ = nullptr;
  std::set<ESYS_TR> loaded_;  // AKs the caller loaded and has not flushed yet
  // How often this object made the EK from its template (workers write it, JS reads it).
  std::atomic<uint32_t> ekCreations_{0};

  // Parses arguments on the JS thread (a bad argument rejects), then queues the work.
  Napi::Value Queue(const Napi::CallbackInfo& info, const std::function<Work()>& prepare) {
    Napi::Env env = info.Env();
    Work work;
    try {
      work = prepare();
    } catch (const Failure& f) {
      auto d = Napi::Promise::Deferred::New(env);
      d.Reject(ToJs(env, f).Value());
      return d.Promise();
    }
    auto* worker = new TpmWorker(env, info.This().As<Napi::Object>(), *this, std::move(work));
    Napi::Promise p = worker->Promise();
    worker->Queue();
    return p;
  }

  static void CheckDeviceAccess(const std::string& conf) {
    if (conf.rfind("device:", 0) != 0 && conf != "device") return;
    std::string path = conf.size() > 7 ? conf.substr(7) : "/dev/tpmrm0";
    if (access(path.c_str(), R_OK | W_OK) == 0) return;
    if (errno == EACCES || errno == EPERM)
      Fail("TPM_PERMISSION_DENIED",
           "Failed to open the TPM device " + path +
               ". Add your user to the `tss` group (sudo usermod -aG tss $USER, then log in again) or "
               "install udev rules that grant access to " + path + " (tpm2-tss ships tpm-udev.rules).");
    Fail("TPM_UNAVAILABLE", "no TPM device at " + path + ": " + strerror(errno));
  }

  void Connect() {
    if (ctx_) return;
    CheckDeviceAccess(conf_);
    TSS2_RC rc = Tss2_TctiLdr_Initialize(conf_.c_str(), &tcti_);
    if (rc != TSS2_RC_SUCCESS) {
      tcti_ = nullptr;
      Fail("TPM_UNAVAILABLE", "cannot reach the TPM at \"" + conf_ + "\": " + Tss2_RC_Decode(rc), rc);
    }
    rc = Esys_Initialize(&ctx_, tcti_, nullptr);
    if (rc != TSS2_RC_SUCCESS) {
      ctx_ = nullptr;
      Release();
      Fail("TPM_UNAVAILABLE", "cannot talk to the TPM at \"" + conf_ + "\": " + Tss2_RC_Decode(rc), rc);
    }
    // A started TPM answers TPM_RC_INITIALIZE (and kernel resource managers may refuse the
    // command); only a transport failure here means there is no TPM to talk to.
    rc = Esys_Startup(ctx_, TPM2_SU_CLEAR);
    if (rc != TSS2_RC_SUCCESS && !IsTpmLayer(rc) && CodeFor(rc) == "TPM_UNAVAILABLE") {
      Release();
      Fail("TPM_UNAVAILABLE", "no TPM answers at \"" + conf_ + "\": " + Tss2_RC_Decode(rc), rc);
    }
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

  ESYS_CONTEXT* Ctx() {
    if (!ctx_) Fail("TPM_CLOSED", "the TPM connection is not open (closed, or open() was not awaited)");
    return ctx_;
  }

  ESYS_TR LoadedAk(ESYS_TR tr) {
    if (!loaded_.count(tr)) Fail("TPM_BAD_INPUT", "akHandle is not a loaded AK (flushed or never loaded)");
    return tr;
  }

  static MakeResult Undefined() {
    return [](Napi::Env env) { return env.Undefined(); };
  }
  static MakeResult BufferResult(Bytes b) {
    return [b = std::move(b)](Napi::Env env) -> Napi::Value { return ToBuffer(env, b); };
  }

  // The EK from the TCG default RSA template: same key as the one the EK certificate is for.
  void CreateEk(Transient& ek, TPM2B_PUBLIC** outPublic) {
    ekCreations_++;
    TPM2B_SENSITIVE_CREATE sens{};
    TPM2B_PUBLIC tmpl = EkTemplate();
    TPM2B_DATA outside{};
    TPML_PCR_SELECTION pcrs{};
    TPM2B_PUBLIC* pub = nullptr;
    Check(Esys_CreatePrimary(Ctx(), ESYS_TR_RH_ENDORSEMENT, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &sens,
                             &tmpl, &outside, &pcrs, &ek.tr, &pub, nullptr, nullptr, nullptr),
          "CreatePrimary(EK)");
    if (outPublic) *outPublic = pub;
    else Esys_Free(pub);
  }

  enum class PersistentEk { kFound, kSlotFree, kOther };

  // The EK persisted at the TCG handle, when the key there has the default RSA EK template (its
  // public area but the unique field, which is the key). Whether it really is the parent of a
  // given AK is proven by loading the AK under it: a TPM only loads a child under the parent
  // whose seed wrapped it, so a look-alike at the handle makes Load fail, never succeed.
  PersistentEk FindPersistentEk(PersistentRef& ek) {
    TSS2_RC rc = Esys_TR_FromTPMPublic(Ctx(), kEkPersistentHandle, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &ek.tr);
    if (rc != TSS2_RC_SUCCESS) {
      ek.tr = ESYS_TR_NONE;
      return IsTpmLayer(rc) && TpmBase(rc) == TPM2_RC_HANDLE ? PersistentEk::kSlotFree : PersistentEk::kOther;
    }
    TPM2B_PUBLIC* pub = nullptr;
    if (Esys_ReadPublic(ctx_, ek.tr, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &pub, nullptr, nullptr) !=
        TSS2_RC_SUCCESS) {
      return PersistentEk::kOther;
    }
    bool same = HasEkTemplate(pub->publicArea);
    Esys_Free(pub);
    return same ? PersistentEk::kFound : PersistentEk::kOther;
  }

  // Field by field (a struct compare would compare padding and unused union bytes too).
  static bool HasEkTemplate(const TPMT_PUBLIC& p) {
    const TPMT_PUBLIC want = EkTemplate().publicArea;
    const TPMS_RSA_PARMS& a = p.parameters.rsaDetail;
    const TPMS_RSA_PARMS& b = want.parameters.rsaDetail;
    return p.type == want.type && p.nameAlg == want.nameAlg && p.objectAttributes == want.objectAttributes &&
           p.authPolicy.size == want.authPolicy.size &&
           memcmp(p.authPolicy.buffer, want.authPolicy.buffer, want.authPolicy.size) == 0 &&
           a.symmetric.algorithm == b.symmetric.algorithm && a.symmetric.keyBits.aes == b.symmetric.keyBits.aes &&
           a.symmetric.mode.aes == b.symmetric.mode.aes && a.scheme.scheme == b.scheme.scheme &&
           a.keyBits == b.keyBits && PublicExponent(a.exponent) == PublicExponent(b.exponent);
  }

  // 0 stands for the default exponent 2^16 + 1 (some tools write it out).
  static uint32_t PublicExponent(uint32_t e) { return e == 0 ? 65537 : e; }

  // Loads an AK under the persistent EK; false (nothing loaded) when that EK is not its parent.
  bool LoadAkUnderPersistentEk(PersistentRef& ek, TPM2B_PRIVATE& priv, TPM2B_PUBLIC& pub, ESYS_TR* ak) {
    Transient session(Ctx());
    EndorsementSession(session);
    TSS2_RC rc = Esys_Load(ctx_, ek.tr, session.tr, ESYS_TR_NONE, ESYS_TR_NONE, &priv, &pub, ak);
    if (rc == TSS2_RC_SUCCESS) return true;
    *ak = ESYS_TR_NONE;
    return false;
  }

  // Best effort: the slot is the EK's by the TCG's profile and was found free. An owner password
  // or a full NV makes it fail, and the next login makes the EK from its template again.
  void PersistEk(const Transient& ek) {
    ESYS_TR persisted = ESYS_TR_NONE;
    if (Esys_EvictControl(ctx_, ESYS_TR_RH_OWNER, ek.tr, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE,
                          kEkPersistentHandle, &persisted) == TSS2_RC_SUCCESS) {
      Esys_TR_Close(ctx_, &persisted);
    }
  }

  // A policy session satisfying the EK's policy, PolicySecret(TPM_RH_ENDORSEMENT).
  void EndorsementSession(Transient& session) {
    TPMT_SYM_DEF sym{};
    sym.algorithm = TPM2_ALG_NULL;
    Check(Esys_StartAuthSession(Ctx(), ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, nullptr,
                                TPM2_SE_POLICY, &sym, TPM2_ALG_SHA256, &session.tr),
          "StartAuthSession");
    TPM2B_NONCE nonce{};
    TPM2B_DIGEST cpHash{};
    TPM2B_NONCE ref{};
    Check(Esys_PolicySecret(ctx_, ESYS_TR_RH_ENDORSEMENT, session.tr, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE,
                            &nonce, &cpHash, &ref, 0, nullptr, nullptr),
          "PolicySecret(endorsement)");
  }

  // nullopt when the index is not defined.
  std::optional<Bytes> ReadNv(TPM2_HANDLE index) {
    ESYS_CONTEXT* ctx = Ctx();
    ESYS_TR nv = ESYS_TR_NONE;
    TSS2_RC rc = Esys_TR_FromTPMPublic(ctx, index, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &nv);
    if (rc != TSS2_RC_SUCCESS) {
      if (IsTpmLayer(rc) && TpmBase(rc) == TPM2_RC_HANDLE) return std::nullopt;
      Check(rc, "reading the EK certificate index");
    }
    struct CloseNv {
      ESYS_CONTEXT* c;
      ESYS_TR* t;
      ~CloseNv() { Esys_TR_Close(c, t); }
    } closer{ctx, &nv};
    TPM2B_NV_PUBLIC* nvPub = nullptr;
    Check(Esys_NV_ReadPublic(ctx, nv, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &nvPub, nullptr), "NV_ReadPublic");
    uint16_t total = nvPub->nvPublic.dataSize;
    Esys_Free(nvPub);
    Bytes data;
    const uint16_t chunk = 512;  // below every TPM's NV buffer maximum (1024 on most)
    // EK certificate indices are owner-readable with the (usually empty) owner password.
    for (uint16_t off = 0; off < total;) {
      uint16_t n = std::min<uint16_t>(chunk, total - off);
      TPM2B_MAX_NV_BUFFER* part = nullptr;
      Check(Esys_NV_Read(ctx, ESYS_TR_RH_OWNER, nv, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, n, off, &part),
            "NV_Read(EK certificate)");
      data.insert(data.end(), part->buffer, part->buffer + part->size);
      off += part->size;
      bool empty = part->size == 0;
      Esys_Free(part);
      if (empty) break;
    }
    return data;
  }

  // Synchronous: a counter, no TPM command. Tests and diagnostics tell the persistent EK from
  // the template's by it.
  Napi::Value EkCreations(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), ekCreations_.load());
  }

  Napi::Value Open(const Napi::CallbackInfo& info) {
    return Queue(info, [] {
      return [](Tpm& t) {
        t.Connect();
        return Undefined();
      };
    });
  }

  // Queued behind any running operation, so it never finalizes a context a worker is using.
  Napi::Value Close(const Napi::CallbackInfo& info) {
    return Queue(info, [] {
      return [](Tpm& t) {
        t.Release();
        return Undefined();
      };
    });
  }

  Napi::Value ReadEkCert(const Napi::CallbackInfo& info) {
    return Queue(info, [] {
      return [](Tpm& t) -> MakeResult {
        std::optional<Bytes> cert = t.ReadNv(kEkCertRsaIndex);
        if (!cert) cert = t.ReadNv(kEkCertEccIndex);
        if (!cert) return [](Napi::Env env) { return env.Null(); };
        return BufferResult(std::move(*cert));
      };
    });
  }

  Napi::Value EkPublic(const Napi::CallbackInfo& info) {
    return Queue(info, [] {
      return [](Tpm& t) {
        Transient ek(t.Ctx());
        TPM2B_PUBLIC* pub = nullptr;
        t.CreateEk(ek, &pub);
        TPMT_PUBLIC area = pub->publicArea;
        Esys_Free(pub);
        return BufferResult(Marshal<TPMT_PUBLIC>(&area, Tss2_MU_TPMT_PUBLIC_Marshal, "marshal EK public"));
      };
    });
  }

  Napi::Value CreateAk(const Napi::CallbackInfo& info) {
    return Queue(info, [] {
      return [](Tpm& t) -> MakeResult {
        ESYS_CONTEXT* ctx = t.Ctx();
        Transient ek(ctx);
        t.CreateEk(ek, nullptr);
        Transient session(ctx);
        t.EndorsementSession(session);

        TPM2B_SENSITIVE_CREATE sens{};
        TPM2B_PUBLIC tmpl = AkTemplate();
        TPM2B_DATA outside{};
        TPML_PCR_SELECTION pcrs{};
        TPM2B_PRIVATE* priv = nullptr;
        TPM2B_PUBLIC* pub = nullptr;
        TPM2B_CREATION_DATA* creation = nullptr;
        TPM2B_DIGEST* creationHash = nullptr;
        TPMT_TK_CREATION* ticket = nullptr;
        EsysFree freer;
        Check(Esys_Create(ctx, ek.tr, session.tr, ESYS_TR_NONE, ESYS_TR_NONE, &sens, &tmpl, &outside, &pcrs, &priv,
                          &pub, &creation, &creationHash, &ticket),
              "Create(AK)");
        freer.p = {priv, pub, creation, creationHash, ticket};

        // CertifyCreation by the AK itself proves the TPM made this key with the creation data
        // above. A policy session's digest resets after each use: Load needs a freshly satisfied one.
        Transient loadSession(ctx);
        t.EndorsementSession(loadSession);
        Transient ak(ctx);
        Check(Esys_Load(ctx, ek.tr, loadSession.tr, ESYS_TR_NONE, ESYS_TR_NONE, priv, pub, &ak.tr), "Load(AK)");
        TPM2B_DATA qualifying{};
        TPMT_SIG_SCHEME scheme{};
        scheme.scheme = TPM2_ALG_NULL;
        TPM2B_ATTEST* attest = nullptr;
        TPMT_SIGNATURE* sig = nullptr;
        Check(Esys_CertifyCreation(ctx, ak.tr, ak.tr, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &qualifying,
                                   creationHash, &scheme, ticket, &attest, &sig),
              "CertifyCreation(AK)");
        freer.p.push_back(attest);
        freer.p.push_back(sig);

        struct Out {
          Bytes pub, priv, creationData, creationAttest, creationSignature;
        } out{
            Marshal<TPM2B_PUBLIC>(pub, Tss2_MU_TPM2B_PUBLIC_Marshal, "marshal AK public"),
            Marshal<TPM2B_PRIVATE>(priv, Tss2_MU_TPM2B_PRIVATE_Marshal, "marshal AK private"),
            Marshal<TPMS_CREATION_DATA>(&creation->creationData, Tss2_MU_TPMS_CREATION_DATA_Marshal,
                                        "marshal creation data"),
            Bytes(attest->attestationData, attest->attestationData + attest->size),
            Marshal<TPMT_SIGNATURE>(sig, Tss2_MU_TPMT_SIGNATURE_Marshal, "marshal signature"),
        };
        return [out = std::move(out)](Napi::Env env) -> Napi::Value {
          Napi::Object o = Napi::Object::New(env);
          o.Set("public", ToBuffer(env, out.pub));
          o.Set("private", ToBuffer(env, out.priv));
          o.Set("creationData", ToBuffer(env, out.creationData));
          o.Set("creationAttest", ToBuffer(env, out.creationAttest));
          o.Set("creationSignature", ToBuffer(env, out.creationSignature));
          return o;
        };
      };
    });
  }

  Napi::Value LoadAk(const Napi::CallbackInfo& info) {
    return Queue(info, [&info]() -> Work {
      // A blob that does not even parse cannot belong to this TPM either: TPM_BINDING, recreate it.
      TPM2B_PUBLIC pub = Unmarshal<TPM2B_PUBLIC>(info[0], Tss2_MU_TPM2B_PUBLIC_Unmarshal, "AK public", true);
      TPM2B_PRIVATE priv = Unmarshal<TPM2B_PRIVATE>(info[1], Tss2_MU_TPM2B_PRIVATE_Unmarshal, "AK private", true);
      return [pub, priv](Tpm& t) mutable -> MakeResult {
        ESYS_CONTEXT* ctx = t.Ctx();
        ESYS_TR ak = ESYS_TR_NONE;
        // Making the EK from its template is the slow part of a login's TPM work (an RSA primary
        // key: tens of ms on swtpm, seconds on some chips); the persistent EK skips it.
        PersistentRef persistent(ctx);
        PersistentEk found = t.FindPersistentEk(persistent);
        if (found == PersistentEk::kFound && t.LoadAkUnderPersistentEk(persistent, priv, pub, &ak)) {
          t.loaded_.insert(ak);
          return [ak](Napi::Env env) { return Napi::Number::New(env, ak); };
        }
        Transient ek(ctx);
        t.CreateEk(ek, nullptr);
        {
          Transient session(ctx);
          t.EndorsementSession(session);
          Check(Esys_Load(ctx, ek.tr, session.tr, ESYS_TR_NONE, ESYS_TR_NONE, &priv, &pub, &ak), "Load(AK)", true);
        }
        t.loaded_.insert(ak);
        // Only once the AK loaded under it: this TPM's EK, not a key of a TPM the blob came from.
        if (found == PersistentEk::kSlotFree) t.PersistEk(ek);
        return [ak](Napi::Env env) { return Napi::Number::New(env, ak); };
      };
    });
  }

  Napi::Value Flush(const Napi::CallbackInfo& info) {
    return Queue(info, [&info]() -> Work {
      ESYS_TR handle = HandleArg(info[0]);
      return [handle](Tpm& t) {
        ESYS_TR ak = t.LoadedAk(handle);
        ESYS_CONTEXT* ctx = t.Ctx();
        t.loaded_.erase(ak);
        Check(Esys_FlushContext(ctx, ak), "FlushContext(AK)");
        return Undefined();
      };
    });
  }

  Napi::Value ActivateCredential(const Napi::CallbackInfo& info) {
    return Queue(info, [&info]() -> Work {
      ESYS_TR handle = HandleArg(info[0]);
      TPM2B_ID_OBJECT blob = FillT2B<TPM2B_ID_OBJECT>(info[1], "credentialBlob");
      TPM2B_ENCRYPTED_SECRET secret = FillT2B<TPM2B_ENCRYPTED_SECRET>(info[2], "encryptedSecret");
      return [handle, blob, secret](Tpm& t) {
        ESYS_CONTEXT* ctx = t.Ctx();
        ESYS_TR ak = t.LoadedAk(handle);
        Transient ek(ctx);
        t.CreateEk(ek, nullptr);
        Transient session(ctx);
        t.EndorsementSession(session);
        TPM2B_DIGEST* cert = nullptr;
        Check(Esys_ActivateCredential(ctx, ak, ek.tr, ESYS_TR_PASSWORD, session.tr, ESYS_TR_NONE, &blob, &secret,
                                      &cert),
              "ActivateCredential");
        Bytes out(cert->buffer, cert->buffer + cert->size);
        Esys_Free(cert);
        return BufferResult(std::move(out));
      };
    });
  }

  Napi::Value Quote(const Napi::CallbackInfo& info) {
    return Queue(info, [&info]() -> Work {
      ESYS_TR handle = HandleArg(info[0]);
      TPM2B_DATA nonce = FillT2B<TPM2B_DATA>(info[1], "nonce");
      TPML_PCR_SELECTION sel = Sha256Selection(info[2]);
      return [handle, nonce, sel](Tpm& t) -> MakeResult {
        ESYS_CONTEXT* ctx = t.Ctx();
        ESYS_TR ak = t.LoadedAk(handle);
        TPMT_SIG_SCHEME scheme{};
        scheme.scheme = TPM2_ALG_NULL;  // a restricted key signs with its own scheme
        TPM2B_ATTEST* attest = nullptr;
        TPMT_SIGNATURE* sig = nullptr;
        EsysFree freer;
        Check(Esys_Quote(ctx, ak, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &nonce, &scheme, &sel, &attest, &sig),
              "Quote");
        freer.p = {attest, sig};
        Bytes a(attest->attestationData, attest->attestationData + attest->size);
        Bytes s = Marshal<TPMT_SIGNATURE>(sig, Tss2_MU_TPMT_SIGNATURE_Marshal, "marshal signature");
        return [a = std::move(a), s = std::move(s)](Napi::Env env) -> Napi::Value {
          Napi::Object o = Napi::Object::New(env);
          o.Set("attest", ToBuffer(env, a));
          o.Set("signature", ToBuffer(env, s));
          return o;
        };
      };
    });
  }

  // TPM2_PCR_Read returns at most 8 digests per call (TPML_DIGEST); ask again for the rest.
  // Four ASCII bytes packed big-endian in a UINT32 property (manufacturer, vendor string parts),
  // NULs and trailing spaces dropped: "IBM\0" -> "IBM".
  static std::string PropertyText(uint32_t v) {
    std::string s;
    for (int shift = 24; shift >= 0; shift -= 8) {
      char c = static_cast<char>((v >> shift) & 0xff);
      if (c >= 0x20 && c < 0x7f) s.push_back(c);
    }
    while (!s.empty() && s.back() == ' ') s.pop_back();
    return s;
  }

  // The TPM's manufacturer, vendor string and firmware version for "This device" and diagnostics:
  // one GetCapability(TPM_PROPERTIES) from TPM2_PT_MANUFACTURER over the fixed properties.
  Napi::Value GetInfo(const Napi::CallbackInfo& info) {
    return Queue(info, [] {
      return [](Tpm& t) -> MakeResult {
        TPMS_CAPABILITY_DATA* cap = nullptr;
        TPMI_YES_NO more = TPM2_NO;
        Check(Esys_GetCapability(t.Ctx(), ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, TPM2_CAP_TPM_PROPERTIES,
                                 TPM2_PT_MANUFACTURER, 16, &more, &cap),
              "GetCapability(TPM_PROPERTIES)");
        EsysFree freer;
        freer.p = {cap};
        uint32_t manufacturer = 0, fw1 = 0, fw2 = 0;
        uint32_t vendor[4] = {0, 0, 0, 0};
        const TPML_TAGGED_TPM_PROPERTY& props = cap->data.tpmProperties;
        for (uint32_t i = 0; i < props.count; i++) {
          const TPMS_TAGGED_PROPERTY& p = props.tpmProperty[i];
          if (p.property == TPM2_PT_MANUFACTURER) manufacturer = p.value;
          else if (p.property >= TPM2_PT_VENDOR_STRING_1 && p.property <= TPM2_PT_VENDOR_STRING_4)
            vendor[p.property - TPM2_PT_VENDOR_STRING_1] = p.value;
          else if (p.property == TPM2_PT_FIRMWARE_VERSION_1) fw1 = p.value;
          else if (p.property == TPM2_PT_FIRMWARE_VERSION_2) fw2 = p.value;
        }
        std::string vendorText;
        for (uint32_t v : vendor) vendorText += PropertyText(v);
        std::string firmware = std::to_string(fw1 >> 16) + "." + std::to_string(fw1 & 0xffff) + "." +
                               std::to_string(fw2 >> 16) + "." + std::to_string(fw2 & 0xffff);
        std::string maker = PropertyText(manufacturer);
        return [maker, vendorText, firmware](Napi::Env env) -> Napi::Value {
          Napi::Object out = Napi::Object::New(env);
          out.Set("manufacturer", Napi::String::New(env, maker));
          out.Set("vendor", Napi::String::New(env, vendorText));
          out.Set("firmwareVersion", Napi::String::New(env, firmware));
          return out;
        };
      };
    });
  }

  Napi::Value PcrRead(const Napi::CallbackInfo& info) {
    return Queue(info, [&info]() -> Work {
      TPML_PCR_SELECTION sel = Sha256Selection(info[0]);
      return [sel](Tpm& t) -> MakeResult {
        ESYS_CONTEXT* ctx = t.Ctx();
        TPML_PCR_SELECTION want = sel;
        uint8_t* bits = want.pcrSelections[0].pcrSelect;
        std::vector<Bytes> values(24);
        while (bits[0] | bits[1] | bits[2]) {
          TPML_PCR_SELECTION* got = nullptr;
          TPML_DIGEST* digests = nullptr;
          EsysFree freer;
          Check(Esys_PCR_Read(ctx, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &want, nullptr, &got, &digests),
                "PCR_Read");
          freer.p = {got, digests};
          uint32_t next = 0, read = 0;
          for (uint32_t b = 0; b < got->count; b++) {
            const TPMS_PCR_SELECTION& s = got->pcrSelections[b];
            for (uint32_t pcr = 0; pcr < 24 && pcr / 8 < s.sizeofSelect; pcr++) {
              if (!(s.pcrSelect[pcr / 8] & (1u << (pcr % 8))) || next >= digests->count) continue;
              const TPM2B_DIGEST& d = digests->digests[next++];  // digests follow the selection order
              if (s.hash != TPM2_ALG_SHA256) continue;
              values[pcr].assign(d.buffer, d.buffer + d.size);
              bits[pcr / 8] &= static_cast<uint8_t>(~(1u << (pcr % 8)));
              read++;
            }
          }
          // A TPM without an (allocated) SHA-256 bank answers with an empty selection; don't spin.
          if (read == 0) Fail("TPM_ERROR", "PCR_Read returned no SHA-256 values (is the SHA-256 bank allocated?)");
        }
        return [values = std::move(values)](Napi::Env env) -> Napi::Value {
          Napi::Array out = Napi::Array::New(env);
          uint32_t n = 0;
          for (const Bytes& v : values)
            if (!v.empty()) out.Set(n++, ToBuffer(env, v));
          return out;
        };
      };
    });
  }
};

void TpmWorker::Execute() {
  std::lock_guard<std::mutex> lock(tpm_.mu);
  try {
    result_ = work_(tpm_);
  } catch (const Failure& f) {
    failure_ = f;
    SetError(f.message);
  } catch (const std::exception& e) {
    failure_ = Failure{"TPM_ERROR", e.what()};
    SetError(e.what());
  }
}

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
