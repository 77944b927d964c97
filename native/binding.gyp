{
  # One source per OS: only Linux (tpm2-tss) exists today; darwin/ and win/ come later, and the
  # TypeScript loader reports "unsupported platform" where no addon was built.
  "targets": [
    {
      "target_name": "gatehouse_tpm",
      "conditions": [
        ["OS=='linux'", {
          "sources": ["linux/tpm.cc"],
          "libraries": ["-ltss2-esys", "-ltss2-tctildr", "-ltss2-mu", "-ltss2-rc"]
        }]
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions"],
      "cflags_cc": ["-fexceptions", "-std=c++17", "-Wall", "-Wextra"]
    }
  ]
}
