package media

import (
	"errors"
	"net"

	"github.com/pion/rtp"

	"github.com/hotdesk-pbx/hotdesk/internal/media/dtmf"
)

// readLoop reads RTP until Close: it latches the remote address and feeds
// telephone-events to the detector, and audio to the Recorder if one is
// attached (Record).
func (s *Session) readLoop() {
	defer s.wg.Done()
	buf := make([]byte, maxPacket)
	var pkt rtp.Packet
	for {
		n, from, err := s.conn.ReadFromUDP(buf)
		if err != nil {
			if !errors.Is(err, net.ErrClosed) && !s.closed() {
				s.log.Warn("rtp read stopped", "err", err)
			}
			return
		}
		if pkt.Unmarshal(buf[:n]) != nil || pkt.Version != 2 || isRTCP(pkt.PayloadType) {
			continue
		}
		dtmfPT, ok := s.accept(from, pkt.PayloadType)
		switch {
		case !ok:
		case int(pkt.PayloadType) == dtmfPT:
			s.telephoneEvent(&pkt)
		default:
			s.recordPacket(&pkt)
		}
	}
}

// isRTCP spots multiplexed RTCP (RFC 5761 section 4: types 200-204 read
// as payload types 72-76).
func isRTCP(pt uint8) bool { return pt >= 72 && pt <= 76 }

// accept applies symmetric RTP: the first packet received fixes where RTP
// is sent (the phone may be behind NAT) and after that only packets from
// that address count. It returns the telephone-event payload type.
func (s *Session) accept(from *net.UDPAddr, pt uint8) (dtmfPT int, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.neg != nil && pt != s.neg.pt && int(pt) != s.neg.dtmfPT && int(pt) != s.neg.cnPT {
		return 0, false
	}
	if !s.latched {
		if !sameAddr(s.remote, from) {
			s.log.Debug("rtp latched", "sdp", s.remote, "from", from)
		}
		s.remote, s.latched = from, true
	}
	if !sameAddr(s.remote, from) || s.neg == nil {
		return 0, false
	}
	return s.neg.dtmfPT, true
}

func (s *Session) telephoneEvent(pkt *rtp.Packet) {
	r, ok, err := s.det.Feed(dtmf.Packet{SSRC: pkt.SSRC, Timestamp: pkt.Timestamp, Marker: pkt.Marker, Payload: pkt.Payload})
	if err != nil {
		s.log.Debug("bad telephone-event", "err", err)
		return
	}
	if ok {
		s.deliverFrom(keysRTP, r)
	}
}
