package nat

// sysSetns is setns(2) on linux/arm64 (package syscall predates it).
const sysSetns = 268
