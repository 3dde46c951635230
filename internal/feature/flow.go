package feature

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/desk"
	"github.com/hotdesk-pbx/hotdesk/internal/media"
	"github.com/hotdesk-pbx/hotdesk/internal/media/prompts"
)

// Prompt names (internal/media/prompts).
const (
	pEnterExtension = "enter_extension"
	pEnterPIN       = "enter_pin"
	pLoggedInAs     = "logged_in_as"
	pLoggedOut      = "logged_out"
	pIncorrectPIN   = "incorrect_pin"
	pNotEnabledExt  = "not_enabled_extension"
	pNotEnabledPh   = "not_enabled_phone"
	pLocked         = "locked"
	pNobody         = "nobody_logged_in"
	pUnavailable    = "service_unavailable"
	pUnknownExt     = "unknown_extension"
	pGoodbye        = "goodbye"
)

// pinTries is how many PINs a prompted call may try (SPEC section 5).
const pinTries = 3

// auditTimeout bounds the audit write of an abandoned login, which may run
// after the caller hung up.
const auditTimeout = 5 * time.Second

// rules is the part of desk.Service a flow uses (a fake in tests).
type rules interface {
	Login(ctx context.Context, req desk.LoginRequest) (*desk.LoginResult, error)
	Logout(ctx context.Context, device, reason, source string) (*hotdesk.Login, error)
	UserAt(ctx context.Context, device string) (*hotdesk.User, error)
	CanLogin(ctx context.Context, ext string) error
	LoginAbandoned(ctx context.Context, ext, device, reason, stage, source string) error
}

// callIO is what a flow does with the call: play prompts and collect keys.
// Play answers the call first if needed.
type callIO interface {
	Play(ctx context.Context, names ...string) error
	// Collect reads keys up to '#'; it returns an error on timeout, hang-up
	// or when ctx is done (what was typed is then not used).
	Collect(ctx context.Context) (string, error)
}

// flow is one feature-code call's dialogue with the hot-desk rules.
type flow struct {
	rules  rules
	io     callIO
	dev    *hotdesk.Device
	source string
	now    hotdesk.Clock
	log    *slog.Logger
	moved  func(ctx context.Context, dev *hotdesk.Device, source string) bool // Options.Moved
}

// run carries out code and plays the outcome. It returns when the PBX
// should hang up (or the caller has).
func (f *flow) run(ctx context.Context, code Code) error {
	if f.dev.Mode != hotdesk.ModeHotdesk {
		return f.io.Play(ctx, pNotEnabledPh)
	}
	if code.Kind == KindInline {
		return f.login(ctx, code.Extension, code.PIN, true)
	}
	cur, err := f.rules.UserAt(ctx, f.dev.ID)
	if err != nil && !errors.Is(err, desk.ErrNotLoggedIn) {
		return f.outcome(ctx, "", err)
	}
	here := ""
	if err == nil {
		here = cur.Extension
	}
	switch code.Kind {
	case KindBare:
		if here != "" {
			return f.logout(ctx)
		}
		return f.promptExtension(ctx)
	case KindExtension:
		if here == code.Extension {
			return f.logout(ctx)
		}
		return f.promptPIN(ctx, code.Extension)
	case KindLogin77:
		return f.promptPIN(ctx, code.Extension)
	case KindLogout77:
		if here == "" {
			return f.io.Play(ctx, pNobody)
		}
		return f.logout(ctx)
	}
	return f.io.Play(ctx, pGoodbye)
}

// login logs ext in with pin and plays the outcome.
func (f *flow) login(ctx context.Context, ext, pin string, toggle bool) error {
	_, err := f.doLogin(ctx, ext, pin, toggle)
	return err
}

// doLogin returns the login error (for PIN retries) after playing its
// outcome, and the play error.
func (f *flow) doLogin(ctx context.Context, ext, pin string, toggle bool) (loginErr, playErr error) {
	res, err := f.rules.Login(ctx, desk.LoginRequest{Extension: ext, Device: f.dev.ID, PIN: pin,
		CheckPIN: true, Toggle: toggle, Via: hotdesk.ViaPhone, Source: f.source})
	if err == nil && res.Toggled {
		return nil, f.io.Play(ctx, pLoggedOut)
	}
	return err, f.outcome(ctx, ext, err)
}

// logout ends the device's login and confirms it.
func (f *flow) logout(ctx context.Context) error {
	_, err := f.rules.Logout(ctx, f.dev.ID, hotdesk.ReasonUser, f.source)
	if err == nil {
		return f.io.Play(ctx, pLoggedOut)
	}
	return f.outcome(ctx, "", err)
}

// promptExtension asks for the extension, then for its PIN.
func (f *flow) promptExtension(ctx context.Context) error {
	if err := f.io.Play(ctx, pEnterExtension); err != nil {
		return err
	}
	ext, err := f.io.Collect(ctx)
	if err != nil || ext == "" {
		return f.giveUp(ctx, "", desk.StageExtension, err)
	}
	return f.promptPIN(ctx, ext)
}

// promptPIN checks that ext may log in at all, then asks for its PIN up to
// pinTries times.
func (f *flow) promptPIN(ctx context.Context, ext string) error {
	// The desk rules say early (before a PIN is asked for) whether ext
	// exists, may hot desk and is not locked; Login checks again.
	if err := f.rules.CanLogin(ctx, ext); err != nil {
		return f.outcome(ctx, ext, err)
	}
	for try := 1; ; try++ {
		if err := f.io.Play(ctx, pEnterPIN); err != nil {
			return err
		}
		pin, err := f.io.Collect(ctx)
		if err != nil || pin == "" {
			return f.giveUp(ctx, ext, desk.StagePIN, err)
		}
		loginErr, playErr := f.doLogin(ctx, ext, pin, false)
		if playErr != nil || !errors.Is(loginErr, desk.ErrBadPIN) || try >= pinTries {
			return playErr
		}
	}
}

// giveUp ends a prompted call the caller did not complete: it audits the
// abandoned login (what was typed is not logged), then says goodbye on a
// digit timeout or an empty entry, nothing when the caller hung up.
func (f *flow) giveUp(ctx context.Context, ext, stage string, err error) error {
	reason := hotdesk.ReasonHangup
	switch {
	case err == nil:
		reason = hotdesk.ReasonNoInput
	case errors.Is(err, media.ErrTimeout):
		reason = hotdesk.ReasonTimeout
	}
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), auditTimeout)
	defer cancel()
	if aerr := f.rules.LoginAbandoned(actx, ext, f.dev.ID, reason, stage, f.source); aerr != nil && f.log != nil {
		f.log.Warn("feature: audit abandoned login", "err", aerr)
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if reason == hotdesk.ReasonHangup {
		return err
	}
	return f.io.Play(ctx, pGoodbye)
}

// outcome plays the prompt for a login result (err nil: logged in as ext),
// and after a login at a phone that seems to have moved, the warning that
// an emergency call may give a wrong address (issue 16).
func (f *flow) outcome(ctx context.Context, ext string, err error) error {
	names := OutcomePrompts(ext, err)
	if err == nil && f.moved != nil && f.moved(ctx, f.dev, f.source) {
		names = append(names, prompts.PhoneMoved)
	}
	return f.io.Play(ctx, names...)
}

// OutcomePrompts names the prompts that confirm a login outcome: for nil,
// "logged in as" and the digits of ext.
func OutcomePrompts(ext string, err error) []string {
	switch {
	case err == nil:
		names := []string{pLoggedInAs}
		for _, d := range ext {
			names = append(names, "digit_"+string(d))
		}
		return names
	case errors.Is(err, desk.ErrBadPIN):
		return []string{pIncorrectPIN}
	case errors.Is(err, desk.ErrLocked):
		return []string{pLocked}
	case errors.Is(err, desk.ErrUnknownUser):
		return []string{pUnknownExt}
	case errors.Is(err, desk.ErrUserNotHotdesk):
		return []string{pNotEnabledExt}
	case errors.Is(err, desk.ErrDeviceNotHotdesk), errors.Is(err, desk.ErrUnknownDevice):
		return []string{pNotEnabledPh}
	case errors.Is(err, desk.ErrNotLoggedIn):
		return []string{pNobody}
	}
	return []string{pUnavailable}
}
