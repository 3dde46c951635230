//go:build !(linux && (amd64 || arm64))

package signaling

import (
	"net"
	"sync/atomic"
)

// udpSock is the listening UDP socket, read one datagram at a time where
// recvmmsg is not used (udpsock_linux.go).
type udpSock struct {
	*net.UDPConn

	reads atomic.Uint64 // reads that returned datagrams (tests)
}

func newUDPSock(c *net.UDPConn) (*udpSock, error) { return &udpSock{UDPConn: c}, nil }

// batchReader reads one datagram at a time.
type batchReader struct {
	u   *udpSock
	dgs []datagram
}

func (u *udpSock) newBatchReader(dgs []datagram) *batchReader { return &batchReader{u: u, dgs: dgs} }

// read reads one datagram into r.dgs[0].
func (r *batchReader) read() (int, error) {
	n, from, err := r.u.ReadFromUDP(r.dgs[0].buf)
	if err != nil {
		return 0, err
	}
	r.u.reads.Add(1)
	r.dgs[0].n, r.dgs[0].from = n, from
	return 1, nil
}
