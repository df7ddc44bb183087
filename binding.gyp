{
  "targets": [
    {
      "target_name": "glusterts_sys",
      "sources": [
        "native/addon.cc",
        "native/args.cc",
        "native/async.cc",
        "native/files.cc",
        "native/io.cc",
        "native/memory.cc",
        "native/rangeio.cc",
        "native/ring.cc",
        "native/statio.cc",
        "native/xattr.cc"
      ],
      "defines": ["NAPI_VERSION=8", "_FILE_OFFSET_BITS=64"],
      "cflags": ["-Wall", "-Wextra", "-Wno-unused-parameter"],
      "conditions": [
        ["OS!='linux'", { "type": "none" }]
      ]
    }
  ]
}
