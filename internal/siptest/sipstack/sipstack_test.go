package sipstack_test

import (
	"context"
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/registrar"
	"github.com/hotdesk-pbx/hotdesk/internal/signaling"
	"github.com/hotdesk-pbx/hotdesk/internal/siptest"
	"github.com/hotdesk-pbx/hotdesk/internal/siptest/sipstack"
	"github.com/hotdesk-pbx/hotdesk/internal/testrun"
)

// TestStartRegistersAPhone: a phone registers with digest on the started
// stack and the registrar lists its contact.
func TestStartRegistersAPhone(t *testing.T) {
	store := siptest.NewMemStore()
	if err := store.CreateDevice(context.Background(), &hotdesk.Device{ID: "HD00001", SIPPassword: "pw", Mode: hotdesk.ModeHotdesk}); err != nil {
		t.Fatal(err)
	}
	reg, srv := sipstack.Start(t,
		registrar.Options{Store: store, Realm: "pbx.test", Logger: siptest.QuietLogger(), Algorithms: []string{"MD5"}},
		signaling.Options{UDPAddr: "127.0.0.1:0", Logger: siptest.QuietLogger()})
	testrun.Go(t, srv.Serve)
	testrun.Go(t, reg.Run)
	p := siptest.New(t, siptest.Options{Server: srv.UDPAddr().String(), User: "HD00001", Password: "pw", Domain: "pbx.test"})
	p.MustRegister(t)
	testrun.Eventually(t, 5*time.Second, "HD00001's contact", func() bool { return len(reg.Contacts("HD00001")) == 1 })
}
