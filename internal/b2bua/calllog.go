package b2bua

import (
	"context"
	"log/slog"
	"sync"
)

// withLazy returns log with args added as slog.Logger.With would, but
// hands them to log's handler only when a record is first logged through
// the result. Every call has such a logger, and With formats its
// attributes at once (slog's text handler renders them into a buffer): at
// the default level most calls never log, and that was a With per INVITE
// for nothing (issue 18).
func withLazy(log *slog.Logger, args ...any) *slog.Logger {
	return slog.New(&lazyHandler{base: log.Handler(), args: args})
}

// lazyHandler is base with args added on first use.
type lazyHandler struct {
	base slog.Handler
	args []any
	once sync.Once
	h    slog.Handler
}

func (l *lazyHandler) handler() slog.Handler {
	l.once.Do(func() { l.h = slog.New(l.base).With(l.args...).Handler() })
	return l.h
}

// Enabled asks base: the attributes do not change what is enabled.
func (l *lazyHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return l.base.Enabled(ctx, level)
}

func (l *lazyHandler) Handle(ctx context.Context, r slog.Record) error {
	return l.handler().Handle(ctx, r)
}

func (l *lazyHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &lazyHandler{base: l.base, args: append(l.args[:len(l.args):len(l.args)], attrsArgs(attrs)...)}
}

func (l *lazyHandler) WithGroup(name string) slog.Handler {
	return l.handler().WithGroup(name)
}

// attrsArgs is attrs as arguments of With.
func attrsArgs(attrs []slog.Attr) []any {
	out := make([]any, len(attrs))
	for i, a := range attrs {
		out[i] = a
	}
	return out
}
