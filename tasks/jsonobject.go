package tasks

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
)

// jsonMember is one key of a JSON object with its value as written in the source.
type jsonMember struct {
	Key   string
	Value json.RawMessage
}

// jsonObject is a JSON object that keeps its keys in source order and its values as
// written, so rewriting a file changes only what a task manages.
type jsonObject []jsonMember

// parseJSONObject parses data as one JSON object. A UTF-8 byte order mark is skipped and
// blank data is an empty object, as dockerd reads daemon.json. When a key repeats, its
// last value wins, as in encoding/json, and it stays where it first appeared.
func parseJSONObject(data []byte) (jsonObject, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if len(bytes.TrimSpace(data)) == 0 {
		return jsonObject{}, nil
	}
	if err := json.Unmarshal(data, new(any)); err != nil {
		return nil, describeJSONError(data, err)
	}

	dec := json.NewDecoder(bytes.NewReader(data))
	if tok, _ := dec.Token(); tok != json.Delim('{') {
		return nil, fmt.Errorf("the document is not a JSON object")
	}
	var obj jsonObject
	for dec.More() {
		keyTok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, err
		}
		obj = obj.with(keyTok.(string), raw)
	}
	return obj, nil
}

// describeJSONError adds the line and column of a syntax error to its message.
func describeJSONError(data []byte, err error) error {
	var syntax *json.SyntaxError
	if !errors.As(err, &syntax) {
		return err
	}
	offset := min(int(syntax.Offset), len(data))
	line := 1 + bytes.Count(data[:offset], []byte("\n"))
	col := offset - bytes.LastIndexByte(data[:offset], '\n')
	return fmt.Errorf("invalid JSON at line %d, column %d: %w", line, col, err)
}

// get returns the raw value of key.
func (o jsonObject) get(key string) (json.RawMessage, bool) {
	for _, m := range o {
		if m.Key == key {
			return m.Value, true
		}
	}
	return nil, false
}

// with returns o with key set to raw: in place when key exists, appended otherwise.
func (o jsonObject) with(key string, raw json.RawMessage) jsonObject {
	out := append(jsonObject(nil), o...)
	for i := range out {
		if out[i].Key == key {
			out[i].Value = raw
			return out
		}
	}
	return append(out, jsonMember{Key: key, Value: raw})
}

// without returns o without key.
func (o jsonObject) without(key string) jsonObject {
	out := make(jsonObject, 0, len(o))
	for _, m := range o {
		if m.Key != key {
			out = append(out, m)
		}
	}
	return out
}

// keys returns the keys of o in order.
func (o jsonObject) keys() []string {
	keys := make([]string, len(o))
	for i, m := range o {
		keys[i] = m.Key
	}
	return keys
}

// mergeJSON merges value into the raw JSON old. When both are objects, each key of value
// replaces or extends the same key of old, recursively. Keys of old keep their order and
// new keys are appended in sorted order. Any other value replaces old.
func mergeJSON(old json.RawMessage, value any) (json.RawMessage, error) {
	m, isMap := value.(map[string]any)
	if !isMap || !isJSONObject(old) {
		return marshalJSON(value)
	}
	obj, err := parseJSONObject(old)
	if err != nil {
		return nil, err
	}
	for _, k := range sortedKeys(m) {
		prev, _ := obj.get(k)
		merged, err := mergeJSON(prev, m[k])
		if err != nil {
			return nil, err
		}
		obj = obj.with(k, merged)
	}
	return obj.marshal(), nil
}

func isJSONObject(raw json.RawMessage) bool {
	trimmed := bytes.TrimSpace(raw)
	return len(trimmed) > 0 && trimmed[0] == '{'
}

// marshalJSON encodes v compactly without escaping <, > and &, so URLs stay readable.
func marshalJSON(v any) (json.RawMessage, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// marshal encodes o compactly, keeping its key order and the values as written.
func (o jsonObject) marshal() json.RawMessage {
	var buf bytes.Buffer
	buf.WriteByte('{')
	for i, m := range o {
		if i > 0 {
			buf.WriteByte(',')
		}
		key, _ := marshalJSON(m.Key)
		buf.Write(key)
		buf.WriteByte(':')
		buf.Write(m.Value)
	}
	buf.WriteByte('}')
	return buf.Bytes()
}

// render formats o as a file: two-space indentation and a trailing newline. Values keep
// their tokens byte for byte, and only the whitespace between tokens changes.
func (o jsonObject) render() ([]byte, error) {
	var buf bytes.Buffer
	if err := json.Indent(&buf, o.marshal(), "", "  "); err != nil {
		return nil, err
	}
	buf.WriteByte('\n')
	return buf.Bytes(), nil
}

// sameJSON reports whether two JSON documents hold the same data. Numbers compare by
// their text, so 1 and 1.0 differ: dockerd rejects 1.0 for an integer option.
func sameJSON(a, b []byte) bool {
	va, errA := decodeJSON(a)
	vb, errB := decodeJSON(b)
	return errA == nil && errB == nil && reflect.DeepEqual(va, vb)
}

// decodeJSON decodes data keeping numbers as json.Number. Blank data decodes to an
// empty object, as in parseJSONObject.
func decodeJSON(data []byte) (any, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if len(bytes.TrimSpace(data)) == 0 {
		return map[string]any{}, nil
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("invalid JSON: data after the top-level value")
	}
	return v, nil
}
