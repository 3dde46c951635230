package validate

import (
	"testing"

	"github.com/hotdesk-pbx/hotdesk"
)

func TestNAT(t *testing.T) {
	for _, c := range []struct {
		n     hotdesk.NATSettings
		field string
	}{
		{hotdesk.NATSettings{KeepaliveSeconds: 25, NoMediaSeconds: 60}, ""},
		{hotdesk.NATSettings{}, ""}, // both off
		{hotdesk.NATSettings{KeepaliveSeconds: 4}, "nat.keepalive_seconds"},
		{hotdesk.NATSettings{KeepaliveSeconds: 3601}, "nat.keepalive_seconds"},
		{hotdesk.NATSettings{KeepaliveSeconds: -1}, "nat.keepalive_seconds"},
		{hotdesk.NATSettings{NoMediaSeconds: 9}, "nat.no_media_seconds"},
	} {
		errs := NAT("nat.", c.n)
		var err error
		if len(errs) > 0 {
			err = errs[0]
		}
		wantField(t, "NAT", err, c.field)
	}
}
