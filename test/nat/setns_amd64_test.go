package nat

// sysSetns is setns(2) on linux/amd64 (package syscall predates it).
const sysSetns = 308
