package voicemail

import (
	"fmt"
	"testing"

	"github.com/hotdesk-pbx/hotdesk"
)

func msgs(ids ...int64) []*hotdesk.Voicemail {
	var out []*hotdesk.Voicemail
	for _, id := range ids {
		out = append(out, &hotdesk.Voicemail{ID: id})
	}
	return out
}

// opsString renders ops compactly: play:1 (index), del:11, save:12 (ids),
// and the names of the others.
func opsString(ops []op) string {
	s := ""
	for _, o := range ops {
		if s != "" {
			s += " "
		}
		switch o.Kind {
		case opPlay:
			s += fmt.Sprintf("play:%d", o.Index)
		case opDelete:
			s += fmt.Sprintf("del:%d", o.ID)
		case opSave:
			s += fmt.Sprintf("save:%d", o.ID)
		default:
			s += map[opKind]string{opRecordGreeting: "record", opPlayGreeting: "greeting", opDeleteGreeting: "delgreeting",
				opPlayRecorded: "playrec", opKeepGreeting: "keep", opDiscardGreeting: "discard", opHangup: "hangup"}[o.Kind]
		}
	}
	return s
}

// The menu's rules, one key at a time: each step gives the ops carried
// out and the prompt that then asks for a key.
func TestMenu(t *testing.T) {
	type step struct {
		key    rune
		ops    string
		prompt string
	}
	tests := []struct {
		name   string
		msgs   []*hotdesk.Voicemail
		start  string
		prompt string
		steps  []step
	}{
		{"save and skip to the end", msgs(11, 12), "play:0", "vm_message_menu", []step{
			{'9', "save:11 play:1", "vm_message_menu"},
			{'#', "", "vm_no_more"},
			{'5', "hangup", "vm_no_more"},
		}},
		{"delete shifts the next one in", msgs(11, 12, 13), "play:0", "vm_message_menu", []step{
			{'7', "del:11 play:0", "vm_message_menu"},
			{'7', "del:12 play:0", "vm_message_menu"},
			{'7', "del:13", "vm_no_more"},
			{'*', "", "vm_no_more"}, // nothing left to go back to
		}},
		{"back replays the previous one, not before the first", msgs(11, 12), "play:0", "vm_message_menu", []step{
			{'*', "play:0", "vm_message_menu"},
			{'#', "play:1", "vm_message_menu"},
			{'*', "play:0", "vm_message_menu"},
			{'#', "play:1", "vm_message_menu"},
			{'#', "", "vm_no_more"},
			{'*', "play:1", "vm_message_menu"},
		}},
		{"unknown keys ask again", msgs(11), "play:0", "vm_message_menu", []step{
			{'5', "", "vm_message_menu"},
			{'A', "", "vm_message_menu"},
		}},
		{"options and back to the same message", msgs(11, 12), "play:0", "vm_message_menu", []step{
			{'#', "play:1", "vm_message_menu"},
			{'0', "", "vm_options"},
			{'2', "greeting", "vm_options"},
			{'3', "delgreeting", "vm_options"},
			{'9', "", "vm_options"},
			{'*', "play:1", "vm_message_menu"},
		}},
		{"record, listen again, keep", msgs(11), "play:0", "vm_message_menu", []step{
			{'0', "", "vm_options"},
			{'1', "record playrec", "vm_greeting_review"},
			{'2', "playrec", "vm_greeting_review"},
			{'7', "", "vm_greeting_review"},
			{'1', "keep", "vm_options"},
		}},
		{"record and discard", nil, "", "vm_options", []step{
			{'1', "record playrec", "vm_greeting_review"},
			{'*', "discard", "vm_options"},
			{'*', "hangup", "vm_no_more"},
		}},
		{"options from the end", msgs(11), "play:0", "vm_message_menu", []step{
			{'#', "", "vm_no_more"},
			{'0', "", "vm_options"},
			{'*', "", "vm_no_more"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := &menu{msgs: tt.msgs}
			if got := opsString(m.start()); got != tt.start || m.prompt() != tt.prompt {
				t.Fatalf("start: %q %s, want %q %s", got, m.prompt(), tt.start, tt.prompt)
			}
			for i, s := range tt.steps {
				got := opsString(m.key(s.key))
				if got != s.ops || m.prompt() != s.prompt {
					t.Fatalf("step %d key %c: %q then %s, want %q then %s", i, s.key, got, m.prompt(), s.ops, s.prompt)
				}
			}
		})
	}
}
