// tpm2-tss helpers for tpm.cc: coded failures, return-code classification, (un)marshaling,
// argument parsing and the EK/AK templates. Included by tpm.cc only (one translation unit), so
// everything lives in an anonymous namespace.
#pragma once

#include <napi.h>

#include <tss2/tss2_esys.h>
#include <tss2/tss2_mu.h>
#include <tss2/tss2_rc.h>
#include <tss2/tss2_tctildr.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unistd.h>
#include <vector>

namespace {

constexpr TPM2_HANDLE kEkCertRsaIndex = 0x01c00002;
// Where the TCG EK Credential Profile puts the persistent RSA EK (tpm2_createek -c, Windows).
constexpr TPM2_HANDLE kEkPersistentHandle = 0x81010001;
constexpr TPM2_HANDLE kEkCertEccIndex = 0x01c0000a;

// PolicySecret(TPM_RH_ENDORSEMENT) with SHA-256: the authPolicy of the TCG default EK templates.
const uint8_t kEkPolicy[32] = {0x83, 0x71, 0x97, 0x67, 0x44, 0x84, 0xb3, 0xf8, 0x1a, 0x90, 0xcc,
                               0x8d, 0x46, 0xa5, 0xd7, 0x24, 0xfd, 0x52, 0xd7, 0x6e, 0x06, 0x52,
                               0x0b, 0x64, 0xf2, 0xa1, 0xda, 0x1b, 0x33, 0x14, 0x69, 0xaa};

using Bytes = std::vector<uint8_t>;

// What a failed operation reports; thrown on any thread, turned into a JS Error on the JS thread.
struct Failure {
  std::string code;
  std::string message;
  TSS2_RC rc = 0;
};

[[noreturn]] void Fail(const std::string& code, const std::string& msg, TSS2_RC rc = 0) {
  throw Failure{code, msg, rc};
}

Napi::Error ToJs(Napi::Env env, const Failure& f) {
  Napi::Error err = Napi::Error::New(env, f.message);
  err.Set("code", Napi::String::New(env, f.code));
  if (f.rc != 0) {
    err.Set("rc", Napi::Number::New(env, f.rc));
    err.Set("rcText", Napi::String::New(env, Tss2_RC_Decode(f.rc)));
  }
  return err;
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

void Check(TSS2_RC rc, const char* what, bool bindingMatters = false) {
  if (rc == TSS2_RC_SUCCESS) return;
  std::string code = (bindingMatters && IsBindingClass(rc)) ? "TPM_BINDING" : CodeFor(rc);
  char hex[16];
  snprintf(hex, sizeof hex, "0x%x", rc);
  Fail(code, std::string(what) + " failed: " + Tss2_RC_Decode(rc) + " (" + hex + ")", rc);
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

// An ESYS handle of a persistent object: released from ESYS when the scope ends, never flushed
// (flushing is for transient objects; the persistent one stays in the TPM).
struct PersistentRef {
  ESYS_CONTEXT* ctx;
  ESYS_TR tr = ESYS_TR_NONE;
  explicit PersistentRef(ESYS_CONTEXT* c) : ctx(c) {}
  PersistentRef(const PersistentRef&) = delete;
  PersistentRef& operator=(const PersistentRef&) = delete;
  ~PersistentRef() {
    if (tr != ESYS_TR_NONE) Esys_TR_Close(ctx, &tr);
  }
};

// Frees ESYS-allocated outputs when the scope ends (Esys_Free ignores null).
struct EsysFree {
  std::vector<void*> p;
  ~EsysFree() {
    for (void* x : p) Esys_Free(x);
  }
};

template <typename T>
Bytes Marshal(const T* value, TSS2_RC (*fn)(const T*, uint8_t*, size_t, size_t*), const char* what) {
  Bytes buf(sizeof(T) + 16);
  size_t off = 0;
  Check(fn(value, buf.data(), buf.size(), &off), what);
  buf.resize(off);
  return buf;
}

// Input parsing runs on the JS thread before the work is queued.
template <typename T>
T Unmarshal(const Napi::Value& v, TSS2_RC (*fn)(const uint8_t*, size_t, size_t*, T*), const char* what,
            bool bindingMatters = false) {
  if (!v.IsBuffer()) Fail("TPM_BAD_INPUT", std::string(what) + " must be a Buffer");
  auto b = v.As<Napi::Buffer<uint8_t>>();
  T out{};
  size_t off = 0;
  TSS2_RC rc = fn(b.Data(), b.Length(), &off, &out);
  if (rc != TSS2_RC_SUCCESS || off != b.Length())
    Fail(bindingMatters ? "TPM_BINDING" : "TPM_BAD_INPUT", std::string(what) + " is not well-formed");
  return out;
}

template <typename T2B>
T2B FillT2B(const Napi::Value& v, const char* what) {
  if (!v.IsBuffer()) Fail("TPM_BAD_INPUT", std::string(what) + " must be a Buffer");
  auto b = v.As<Napi::Buffer<uint8_t>>();
  T2B out{};
  if (b.Length() > sizeof(out) - sizeof(out.size))
    Fail("TPM_BAD_INPUT", std::string(what) + " is too long (" + std::to_string(b.Length()) + " bytes)");
  out.size = static_cast<uint16_t>(b.Length());
  memcpy(reinterpret_cast<uint8_t*>(&out) + sizeof(out.size), b.Data(), b.Length());
  return out;
}

ESYS_TR HandleArg(const Napi::Value& v) {
  if (!v.IsNumber()) Fail("TPM_BAD_INPUT", "akHandle must be a number from loadAk()");
  return v.As<Napi::Number>().Uint32Value();
}

TPML_PCR_SELECTION Sha256Selection(const Napi::Value& v) {
  if (!v.IsArray()) Fail("TPM_BAD_INPUT", "pcrs must be an array of numbers");
  Napi::Array list = v.As<Napi::Array>();
  TPML_PCR_SELECTION sel{};
  sel.count = 1;
  sel.pcrSelections[0].hash = TPM2_ALG_SHA256;
  sel.pcrSelections[0].sizeofSelect = 3;
  for (uint32_t i = 0; i < list.Length(); i++) {
    Napi::Value e = list.Get(i);
    uint32_t pcr = e.IsNumber() ? e.As<Napi::Number>().Uint32Value() : 99;
    if (!e.IsNumber() || pcr > 23) Fail("TPM_BAD_INPUT", "PCR indices must be numbers 0..23");
    sel.pcrSelections[0].pcrSelect[pcr / 8] |= static_cast<uint8_t>(1u << (pcr % 8));
  }
  return sel;
}

Napi::Buffer<uint8_t> ToBuffer(Napi::Env env, const Bytes& b) { return Napi::Buffer<uint8_t>::Copy(env, b.data(), b.size()); }

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

}  // namespace
