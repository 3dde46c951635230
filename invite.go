package hotdesk

// InviteParties is what routing a call from a phone to an extension reads: who
// the call belongs to, who is called, and which phones ring.
type InviteParties struct {
	// Caller is the user the calling phone's calls belong to: the user
	// logged in on it (a hot desk phone) or its owner (a personal phone);
	// nil when there is none (a neutral phone, an owner deleted).
	Caller *User
	// Callee is the user with the dialled extension; nil when there is
	// none or no callee was asked for.
	Callee *User
	// CalleeAt is the device the callee is logged in on; "" when none.
	CalleeAt string
	// CalleePersonal are the ids of the callee's personal phones, in id
	// order (PersonalDevices).
	CalleePersonal []string
}
