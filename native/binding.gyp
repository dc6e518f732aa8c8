{
  "targets": [
    {
      "target_name": "weave_tap",
      "sources": ["tap.c", "gso.c", "gcm.c", "udp.c", "netlink.c", "lock.c"],
      "cflags": ["-std=gnu11", "-Wall", "-Wextra", "-O2"]
    }
  ]
}
