package prompts

// Prompts of emergency alerts (issue 16). An alert is composed of these
// words and digit prompts (no speech synthesis at run time).
const (
	EmergencyAlert     = "emergency_alert"
	EmergencyTestAlert = "emergency_test_alert"
	FromDesk           = "from_desk"
	Floor              = "floor"
	Room               = "room"
	Extension          = "extension"
	CallbackNumber     = "callback_number"
	Plus               = "plus"
	LocationUnverified = "location_unverified"
	PressOneToAck      = "press_1_ack"
	Acknowledged       = "acknowledged"
	PhoneMoved         = "phone_moved"    // heard on logging in at a desk that seems moved
	EmergencyTest      = "emergency_test" // heard by the caller of the test number
)

func init() {
	Names = append(Names, EmergencyAlert, EmergencyTestAlert, FromDesk, Floor, Room, Extension, CallbackNumber,
		Plus, LocationUnverified, PressOneToAck, Acknowledged, PhoneMoved, EmergencyTest)
}

// NumberNames maps a number as it is read out to prompt names: digits and
// a leading "+" ("plus sign"); other characters are skipped.
func NumberNames(s string) []string {
	var names []string
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
			names = append(names, "digit_"+string(r))
		case r == '+' && i == 0:
			names = append(names, Plus)
		}
	}
	return names
}
