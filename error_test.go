package hotdesk_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/hotdesk-pbx/hotdesk"
)

func TestIgnoreNotFound(t *testing.T) {
	other := errors.New("disk on fire")
	conflict := hotdesk.Errorf(hotdesk.ECONFLICT, "taken")
	for _, tt := range []struct {
		in, want error
	}{
		{nil, nil},
		{hotdesk.Errorf(hotdesk.ENOTFOUND, "no login"), nil},
		{fmt.Errorf("logout: %w", hotdesk.Errorf(hotdesk.ENOTFOUND, "no login")), nil},
		{conflict, conflict},
		{other, other},
	} {
		if got := hotdesk.IgnoreNotFound(tt.in); got != tt.want {
			t.Errorf("IgnoreNotFound(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
}
