{
  "targets": [{
    "target_name": "sysbox_native",
    "sources": ["src/addon.cc", "src/userns.cc", "src/mounts.cc", "src/pidwatch.cc", "src/fds.cc", "src/seccomp.cc", "src/nsmount.cc", "src/netns.cc", "src/notify.cc", "src/xattr.cc", "src/listdir.cc", "src/memory.cc", "src/spawn.cc", "src/fifo.cc", "src/fuse-uring.cc", "src/kept-open.cc"],
    "include_dirs": ["<!@(node -p \"require('node-addon-api').include\")"],
    "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"],
    "cflags_cc": ["-std=c++17", "-fexceptions", "-Wall", "-Wextra"],
    "cflags_cc!": ["-fno-exceptions"]
  }, {
    "target_name": "sysbox-mgr-rootfs-view",
    "type": "executable",
    "sources": ["src/rootfs-view/main.c", "src/rootfs-view/ops.c", "src/rootfs-view/nodes.c"],
    "cflags_c": ["-std=gnu11", "-O2", "-Wall", "-Wextra", "-Werror"]
  }]
}
