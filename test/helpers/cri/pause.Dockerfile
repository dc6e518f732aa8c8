# The sandbox ("pause") image of the CRI tests, built without a registry: busybox-static that
# sleeps. containerd stops sandboxes with SIGKILL, so sleep as pid 1 needs no signal handling.
FROM scratch
COPY busybox /bin/busybox
ENTRYPOINT ["/bin/busybox", "sleep", "2147483647"]
