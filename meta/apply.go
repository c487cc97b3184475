package meta

import "fmt"

// Encode builds a Raft log entry's data: msgpack(Command{op,
// msgpack(body)}). body may be nil (OpClear). Map keys are sorted, so a
// command encodes to the same bytes wherever it is built.
func Encode(op Op, body any) ([]byte, error) {
	cmd := Command{Op: op}
	if body != nil {
		b, err := marshal(body)
		if err != nil {
			return nil, fmt.Errorf("meta: encode %s body: %w", op, err)
		}
		cmd.Body = b
	}
	b, err := marshal(&cmd)
	if err != nil {
		return nil, fmt.Errorf("meta: encode %s: %w", op, err)
	}
	return b, nil
}

// DecodeCommand parses a log entry's data. Errors wrap ErrBadCommand: the
// bytes are not a Command, or its op is unknown.
func DecodeCommand(b []byte) (Command, error) {
	var cmd Command
	if err := unmarshal(b, &cmd); err != nil {
		return Command{}, fmt.Errorf("%w: %w", ErrBadCommand, err)
	}
	if _, ok := handlers[cmd.Op]; !ok {
		return Command{}, fmt.Errorf("%w: unknown op %d", ErrBadCommand, cmd.Op)
	}
	return cmd, nil
}

// String names the op, for logs and errors.
func (op Op) String() string {
	if name, ok := opNames[op]; ok {
		return name
	}
	return fmt.Sprintf("op(%d)", uint8(op))
}

var opNames = map[Op]string{
	OpInit: "init", OpRegister: "register", OpSetMemberState: "set-member-state",
	OpRemoveMember: "remove-member", OpStage: "stage", OpClear: "clear", OpCommit: "commit",
	OpCreateType: "create-type", OpActivateType: "activate-type", OpUpdateType: "update-type",
	OpSetBucketProps: "set-bucket-props", OpResetBucketProps: "reset-bucket-props",
	OpStrongPut: "strong-put", OpStrongDelete: "strong-delete", OpCompleteTransfer: "complete-transfer",
}

// handler applies one op's body to the state. Handlers check everything
// before they change anything: a command that fails leaves the state as
// it was (but for State.Index, which Apply advances for every command).
type handler func(s *State, body []byte, res *Result) error

var handlers = map[Op]handler{
	OpInit:             withBody(applyInit),
	OpRegister:         withBody(applyRegister),
	OpSetMemberState:   withBody(applySetMemberState),
	OpRemoveMember:     withBody(applyRemoveMember),
	OpStage:            withBody(applyStage),
	OpClear:            applyClear,
	OpCommit:           withBody(applyCommit),
	OpCreateType:       withBody(applyCreateType),
	OpActivateType:     withBody(applyActivateType),
	OpUpdateType:       withBody(applyUpdateType),
	OpSetBucketProps:   withBody(applySetBucketProps),
	OpResetBucketProps: withBody(applyResetBucketProps),
	OpStrongPut:        withBody(applyStrongPut),
	OpStrongDelete:     withBody(applyStrongDelete),
	OpCompleteTransfer: withBody(applyCompleteTransfer),
}

// withBody adapts a handler of a typed body: it decodes the body (errors
// wrap ErrBadCommand) and passes it on.
func withBody[T any](fn func(s *State, cmd *T, res *Result) error) handler {
	return func(s *State, body []byte, res *Result) error {
		var cmd T
		if err := unmarshal(body, &cmd); err != nil {
			return fmt.Errorf("%w: body: %w", ErrBadCommand, err)
		}
		return fn(s, &cmd, res)
	}
}

// applyCommand applies one decoded command to s and fills res. It is the
// whole of the FSM's logic: deterministic, given s and cmd.
func applyCommand(s *State, cmd Command, res *Result) error {
	h, ok := handlers[cmd.Op]
	if !ok {
		return fmt.Errorf("%w: unknown op %d", ErrBadCommand, cmd.Op)
	}
	return h(s, cmd.Body, res)
}
