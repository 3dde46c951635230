package voicemail

import "github.com/hotdesk-pbx/hotdesk"

// The mailbox menu as a state machine of its own, so its rules are table
// tested without a call: key takes one key and returns what to do; the
// dialogue (mailbox.go) does it, then plays prompt and waits for the next
// key. Messages are listed once, when the mailbox opens: new ones first,
// then saved ones.
//
//	after a message:  7 delete, 9 save (mark heard), # skip (leave as is),
//	                  * back to the previous one, 0 options
//	no more messages: * back to the last one, 0 options, other keys hang up
//	options:          1 record the greeting, 2 listen to it, 3 delete it,
//	                  * back to the messages (hang up when there are none)
//	greeting review:  1 keep it, 2 listen again, * discard it

// mode is where the menu is.
type mode int

const (
	modeMessages mode = iota // at message i, or past the last one
	modeOptions
	modeReview // a greeting was just recorded
)

// opKind is one thing the dialogue does.
type opKind int

const (
	opPlay            opKind = iota + 1 // announce and play message Index
	opDelete                            // delete message ID
	opSave                              // mark message ID heard
	opRecordGreeting                    // record a greeting (then review)
	opPlayGreeting                      // play the stored greeting
	opDeleteGreeting                    // delete the stored greeting
	opPlayRecorded                      // play the greeting just recorded
	opKeepGreeting                      // store the greeting just recorded
	opDiscardGreeting                   // forget it
	opHangup                            // say goodbye and hang up
)

// op is one step of the dialogue.
type op struct {
	Kind  opKind
	Index int   // opPlay
	ID    int64 // opDelete, opSave
}

// menu is one open mailbox.
type menu struct {
	msgs []*hotdesk.Voicemail
	i    int // current message; len(msgs) = past the last
	mode mode
}

// start is what to do when the mailbox opens: play the first message, or
// go to the options when there is none.
func (m *menu) start() []op {
	if len(m.msgs) == 0 {
		m.mode = modeOptions
		return nil
	}
	return []op{{Kind: opPlay, Index: 0}}
}

// current is the message the menu is at, nil past the last.
func (m *menu) current() *hotdesk.Voicemail {
	if m.i < len(m.msgs) {
		return m.msgs[m.i]
	}
	return nil
}

// next plays the message at i, if any (the dialogue then says "no more
// messages" as the prompt).
func (m *menu) playAt(i int) []op {
	m.i = max(0, min(i, len(m.msgs)))
	if m.i < len(m.msgs) {
		return []op{{Kind: opPlay, Index: m.i}}
	}
	return nil
}

// prompt names the prompt that asks for the next key.
func (m *menu) prompt() string {
	switch {
	case m.mode == modeOptions:
		return "vm_options"
	case m.mode == modeReview:
		return "vm_greeting_review"
	case m.current() == nil:
		return "vm_no_more"
	}
	return "vm_message_menu"
}

// key applies one key.
func (m *menu) key(k rune) []op {
	switch m.mode {
	case modeOptions:
		return m.optionsKey(k)
	case modeReview:
		return m.reviewKey(k)
	}
	cur := m.current()
	switch {
	case k == '0':
		m.mode = modeOptions
		return nil
	case k == '*':
		return m.playAt(m.i - 1)
	case cur == nil:
		return []op{{Kind: opHangup}}
	case k == '7':
		m.msgs = append(m.msgs[:m.i:m.i], m.msgs[m.i+1:]...)
		return append([]op{{Kind: opDelete, ID: cur.ID}}, m.playAt(m.i)...)
	case k == '9':
		return append([]op{{Kind: opSave, ID: cur.ID}}, m.playAt(m.i+1)...)
	case k == '#':
		return m.playAt(m.i + 1)
	}
	return nil // another key: ask again
}

func (m *menu) optionsKey(k rune) []op {
	switch k {
	case '1':
		m.mode = modeReview
		return []op{{Kind: opRecordGreeting}, {Kind: opPlayRecorded}}
	case '2':
		return []op{{Kind: opPlayGreeting}}
	case '3':
		return []op{{Kind: opDeleteGreeting}}
	case '*':
		m.mode = modeMessages
		if len(m.msgs) == 0 {
			return []op{{Kind: opHangup}}
		}
		return m.playAt(m.i)
	}
	return nil
}

func (m *menu) reviewKey(k rune) []op {
	switch k {
	case '1':
		m.mode = modeOptions
		return []op{{Kind: opKeepGreeting}}
	case '2':
		return []op{{Kind: opPlayRecorded}}
	case '*':
		m.mode = modeOptions
		return []op{{Kind: opDiscardGreeting}}
	}
	return nil
}
