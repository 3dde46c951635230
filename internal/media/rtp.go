package media

import (
	"errors"
	"net"

	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"

	"github.com/hotdesk-pbx/hotdesk/internal/media/dtmf"
)

// readLoop reads RTP until Close: it latches the remote address and feeds
// telephone-events to the detector, and audio to the Recorder if one is
// attached (Record).
func (s *Session) readLoop() {
	defer s.wg.Done()
	buf := make([]byte, maxPacket)
	var plain []byte // SRTP's decrypted packet, made by the first (most calls are plain RTP)
	var pkt rtp.Packet
	for {
		n, from, err := s.conn.ReadFromUDP(buf)
		if err != nil {
			if !errors.Is(err, net.ErrClosed) && !s.closed() {
				s.log.Warn("rtp read stopped", "err", err)
			}
			return
		}
		data := buf[:n]
		if dec := s.decrypter(); dec != nil && len(data) >= 2 && !isRTCP(data[1]&0x7f) {
			// Authenticated before anything else: a packet without the
			// peer's key neither latches nor carries a key press.
			if data, err = dec.DecryptRTP(plain[:0], data, nil); err != nil {
				continue
			}
			plain = data[:0]
		}
		if pkt.Unmarshal(data) != nil || pkt.Version != 2 || isRTCP(pkt.PayloadType) {
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

// accept applies symmetric RTP: the first packet received from the
// phone's SDP address or its signalling flow's address fixes where RTP is
// sent (the phone may be behind NAT, sending from another port than it
// wrote) and after that only packets from that address count. Packets from
// any other address are dropped, before latching too: a third party
// cannot inject digits ahead of the phone's first packet (issue 15 item
// 5). It returns the telephone-event payload type.
func (s *Session) accept(from *net.UDPAddr, pt uint8) (dtmfPT int, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.neg != nil && pt != s.neg.pt && int(pt) != s.neg.dtmfPT && int(pt) != s.neg.cnPT {
		return 0, false
	}
	if !s.latched && !from.IP.Equal(s.peerIP) && !from.IP.Equal(s.flowIP) {
		s.log.Debug("rtp from a third address dropped", "from", from, "sdp", s.peerIP, "flow", s.flowIP)
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

// decrypter is the SRTP context of received packets, nil for plain RTP.
func (s *Session) decrypter() *srtp.Context {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srtp == nil {
		return nil
	}
	return s.srtp.dec
}

// encrypter is the SRTP context of sent packets, nil for plain RTP.
func (s *Session) encrypter() *srtp.Context {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srtp == nil {
		return nil
	}
	return s.srtp.enc
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
