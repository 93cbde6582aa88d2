package tasks

// Memo stores what tasks read from one host during one run, so that tasks that need the
// same state, such as two docker_daemon_config tasks, share one remote command. A read is
// reused only while nothing has changed the host since: the runner calls Forget after
// every task that reported a change or whose kind may change the host without saying so.
// A nil Memo stores nothing. A Memo belongs to one host's run, which runs its tasks one
// at a time, so it has no lock.
type Memo struct {
	reads map[memoKey]any
	// planned are the changes that tasks in check mode reported they would make, which
	// later tasks take as made. Forget keeps them, since nothing changed the host.
	planned map[memoKey]bool
	// expected are the kinds of read that tasks of the run will make, so that a command
	// run for one read can make another too.
	expected map[string]bool
}

// memoKey names one read: its kind and what it read, such as a file's path.
type memoKey struct {
	kind   string
	object string
}

// NewMemo returns an empty Memo.
func NewMemo() *Memo {
	return &Memo{reads: map[memoKey]any{}, expected: map[string]bool{},
		planned: map[memoKey]bool{}}
}

// NewMemoFor returns an empty Memo that records which shared reads the tasks of a run will
// make, so that the command of one read can make another and save a command.
func NewMemoFor(run []Task) *Memo {
	m := NewMemo()
	for _, t := range run {
		if r, ok := t.(sharedReader); ok {
			for _, kind := range r.sharedReads() {
				m.expected[kind] = true
			}
		}
	}
	return m
}

// sharedReader is a task whose reads of the host go through the memo.
type sharedReader interface {
	// sharedReads returns the kinds of memo key that the task reads.
	sharedReads() []string
}

// expects reports whether a task of the run will make the read of key and the memo does
// not store it yet.
func (m *Memo) expects(key memoKey) bool {
	if m == nil || !m.expected[key.kind] {
		return false
	}
	_, stored := m.reads[key]
	return !stored
}

// expect records that a task of the run will make the read of key.
func (m *Memo) expect(key memoKey) {
	if m != nil {
		m.expected[key.kind] = true
	}
}

// plan records that a task in check mode would make the change named by key.
func (m *Memo) plan(key memoKey) {
	if m != nil {
		m.planned[key] = true
	}
}

// isPlanned reports whether a task in check mode would have made the change of key.
func (m *Memo) isPlanned(key memoKey) bool {
	return m != nil && m.planned[key]
}

// Forget drops every stored read.
func (m *Memo) Forget() {
	if m != nil {
		clear(m.reads)
	}
}

func (m *Memo) store(key memoKey, value any) {
	if m != nil {
		m.reads[key] = value
	}
}

// recall returns the stored read of key, or calls read and stores its result when it
// returns no error.
func recall[T any](m *Memo, key memoKey, read func() (T, error)) (T, error) {
	if m != nil {
		if v, ok := m.reads[key].(T); ok {
			return v, nil
		}
	}
	v, err := read()
	if err == nil {
		m.store(key, v)
	}
	return v, err
}

// fileKey names the read of the file at path. Its stored value is the file, or nil for
// a file that does not exist.
func fileKey(path string) memoKey {
	return memoKey{kind: "file", object: path}
}
