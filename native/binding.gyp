{
  "targets": [
    {
      "target_name": "weave_tap",
      "sources": ["tap.c"],
      "cflags": ["-std=gnu11", "-Wall", "-Wextra", "-O2"]
    }
  ]
}
