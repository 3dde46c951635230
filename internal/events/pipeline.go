package events

// Bus kinds of the phone pipeline after a login (issue 17 item 8): the
// PBX told a phone to re-fetch its configuration, or could not; and a
// phone subscribed to a BLF (dialog) package. They are published on the
// node that acted and are not audited.
const (
	KindCheckSync       = "check_sync"        // a check-sync NOTIFY was answered 2xx; Detail: the Event header
	KindCheckSyncFailed = "check_sync_failed" // it failed or was not answered; Detail: why
	KindSubscribed      = "blf_subscribed"    // a device subscribed to dialog state; Extension: the watched user
)
