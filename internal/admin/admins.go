package admin

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"golang.org/x/crypto/bcrypt"

	"github.com/hotdesk-pbx/hotdesk"
)

// AccountReason is the audit reason of changes to console accounts
// (audited as settings_changed).
const AccountReason = "admin_account"

// MinPasswordLen is the shortest console password accepted.
const MinPasswordLen = 12

var reUsername = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,31}$`)

// Accounts lists every console account with its role and state.
func (s *Service) Accounts(ctx context.Context) ([]hotdesk.AdminAccess, error) {
	return s.store.ListAdminAccess(ctx)
}

// Access is the role and state of a console account (ENOTFOUND).
func (s *Service) Access(ctx context.Context, username string) (*hotdesk.AdminAccess, error) {
	return s.store.AdminAccess(ctx, username)
}

func checkRole(role string) error {
	if !slices.Contains(hotdesk.Roles, role) {
		return hotdesk.Invalidf("role", "role must be admin, helpdesk or viewer.")
	}
	return nil
}

func checkPassword(field, pw string) error {
	if len(pw) < MinPasswordLen || len(pw) > 72 {
		return hotdesk.Invalidf(field, "A password must be %d to 72 characters.", MinPasswordLen)
	}
	return nil
}

// CreateAccount makes a console account with a role. Errors: EINVALID
// (username, password, role), ECONFLICT (username).
func (s *Service) CreateAccount(ctx context.Context, source, username, password, role string) error {
	username = strings.TrimSpace(username)
	var errs []error
	if !reUsername.MatchString(username) {
		errs = append(errs, hotdesk.Invalidf("username", "A username is 1 to 32 lower-case letters, digits, dots, dashes or underscores."))
	}
	errs = append(errs, checkPassword("password", password), checkRole(role))
	if err := collect(errs...); err != nil {
		return err
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		return fmt.Errorf("hash password: %w", err)
	}
	if err := s.store.CreateAdmin(ctx, &hotdesk.Admin{Username: username, PasswordHash: string(hash), CreatedAt: s.now()}); err != nil {
		return withField(err, "username")
	}
	if role != hotdesk.RoleAdmin {
		if err := s.store.PutAdminAccess(ctx, hotdesk.AdminAccess{Username: username, Role: role}); err != nil {
			return err
		}
	}
	s.audit(ctx, source, &hotdesk.AuditEvent{Kind: hotdesk.KindSettings, Reason: AccountReason, Detail: "created admin " + username + " (" + role + ")"})
	return nil
}

// SetAccess changes another account's role and state; actor (the
// signed-in admin) cannot change their own, so nobody locks themselves
// out. Errors: EINVALID (role), EFORBIDDEN (own account), ENOTFOUND.
func (s *Service) SetAccess(ctx context.Context, source, actor string, a hotdesk.AdminAccess) error {
	if err := checkRole(a.Role); err != nil {
		return err
	}
	if a.Username == actor {
		return hotdesk.Errorf(hotdesk.EFORBIDDEN, "You cannot change your own role or disable yourself; ask another admin.")
	}
	if err := s.store.PutAdminAccess(ctx, a); err != nil {
		return err
	}
	state := "enabled"
	if a.Disabled {
		state = "disabled"
	}
	s.audit(ctx, source, &hotdesk.AuditEvent{Kind: hotdesk.KindSettings, Reason: AccountReason, Detail: fmt.Sprintf("admin %s: %s, %s", a.Username, a.Role, state)})
	return nil
}

// ChangePassword sets username's new password after checking the current
// one; the account's other sessions end (the store's SetAdminPassword).
// Errors: EINVALID (current: wrong; password: too short).
func (s *Service) ChangePassword(ctx context.Context, source, username, current, password string) error {
	a, err := s.store.FindAdmin(ctx, username)
	if err != nil {
		return err
	}
	if bcrypt.CompareHashAndPassword([]byte(a.PasswordHash), []byte(current)) != nil {
		return hotdesk.Invalidf("current", "The current password is wrong.")
	}
	if err := checkPassword("password", password); err != nil {
		return err
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		return fmt.Errorf("hash password: %w", err)
	}
	if err := s.store.SetAdminPassword(ctx, username, string(hash)); err != nil {
		return err
	}
	s.audit(ctx, source, &hotdesk.AuditEvent{Kind: hotdesk.KindSettings, Reason: AccountReason, Detail: "admin " + username + " changed their password"})
	return nil
}
