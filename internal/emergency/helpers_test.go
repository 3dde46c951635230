package emergency

import (
	"context"
	"log/slog"
	"testing"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/media/prompts"
	"github.com/hotdesk-pbx/hotdesk/internal/testrun"
)

// mustRun runs a Service on o with the settings st, the embedded prompts
// and no logging until stop is called or the test ends.
func mustRun(t testing.TB, o Options, st hotdesk.Settings) (s *Service, stop func()) {
	t.Helper()
	o.Settings = func(context.Context) hotdesk.Settings { return st }
	o.Logger = slog.New(slog.DiscardHandler)
	if o.Prompts == nil {
		o.Prompts = func(lang string) (*prompts.Set, error) { return prompts.New(lang, "") }
	}
	s = New(o)
	return s, testrun.Go(t, s.Run)
}
