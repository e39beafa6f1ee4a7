// The coordinator–rank control channel (see ControlChannel.md in docs once written).
