package pgtype

import (
	"errors"

	"github.com/siphoncdc/siphon/pipeline"
)

var (
	errArraySyntax = errors.New("is not an array literal")
	errMultiDim    = errors.New("is a multi-dimensional array, which the column's Connect schema (an array of elements) cannot hold; Debezium emits null elements for it")
)

// arrayElement is one element of an array literal: its unescaped text, or
// null for an unquoted NULL.
type arrayElement struct {
	text []byte
	null bool
}

// parseArray reads a one-dimensional array as array_out prints it:
// "{a,"b c",NULL,"with \"quote\""}", optionally after a "[lo:hi]=" bounds
// decoration. Element texts alias b unless they held escapes. It fails
// with errMultiDim for nested arrays.
func parseArray(b []byte, elems []arrayElement) ([]arrayElement, error) {
	i := 0
	if len(b) > 0 && b[0] == '[' {
		eq := indexByte(b, '=')
		if eq < 0 || !validBounds(b[:eq]) {
			return nil, errArraySyntax
		}
		if indexByte(b[1:eq], '[') >= 0 {
			return nil, errMultiDim
		}
		i = eq + 1
	}
	if i >= len(b) || b[i] != '{' {
		return nil, errArraySyntax
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		if skipSpace(b, i+1) != len(b) {
			return nil, errArraySyntax
		}
		return elems, nil
	}
	for {
		i = skipSpace(b, i)
		if i >= len(b) {
			return nil, errArraySyntax
		}
		var e arrayElement
		var ok bool
		switch b[i] {
		case '{':
			return nil, errMultiDim
		case '"':
			e.text, i, ok = quotedElement(b, i)
		default:
			e, i, ok = bareElement(b, i)
		}
		if !ok {
			return nil, errArraySyntax
		}
		elems = append(elems, e)
		i = skipSpace(b, i)
		if i >= len(b) {
			return nil, errArraySyntax
		}
		switch b[i] {
		case ',':
			i++
		case '}':
			if skipSpace(b, i+1) != len(b) {
				return nil, errArraySyntax
			}
			return elems, nil
		default:
			return nil, errArraySyntax
		}
	}
}

// validBounds checks "[lo:hi]" groups.
func validBounds(b []byte) bool {
	for len(b) > 0 {
		if b[0] != '[' {
			return false
		}
		end := indexByte(b, ']')
		if end < 0 {
			return false
		}
		lo, hi, ok := cutColon(b[1:end])
		if !ok {
			return false
		}
		if _, ok := parseInt64(lo); !ok {
			return false
		}
		if _, ok := parseInt64(hi); !ok {
			return false
		}
		b = b[end+1:]
	}
	return true
}

func cutColon(b []byte) (before, after []byte, ok bool) {
	i := indexByte(b, ':')
	if i < 0 {
		return nil, nil, false
	}
	return b[:i], b[i+1:], true
}

func quotedElement(b []byte, i int) ([]byte, int, bool) {
	i++
	start := i
	escaped := false
	for ; i < len(b); i++ {
		switch b[i] {
		case '\\':
			escaped = true
			i++
		case '"':
			if !escaped {
				return b[start:i], i + 1, true
			}
			return []byte(unescapeQuoted(b[start:i])), i + 1, true
		}
	}
	return nil, 0, false
}

// bareElement reads an unquoted element up to ',' or '}'; trailing blanks
// are not part of it, and an unescaped NULL (any case) is a null.
func bareElement(b []byte, i int) (arrayElement, int, bool) {
	start := i
	escaped := false
	end := i // end of the element without trailing blanks
	for ; i < len(b); i++ {
		c := b[i]
		if c == ',' || c == '}' {
			break
		}
		switch c {
		case '\\':
			escaped = true
			i++
			end = i + 1
		case '"', '{':
			return arrayElement{}, 0, false
		case ' ', '\t', '\n', '\r':
		default:
			end = i + 1
		}
	}
	if i >= len(b) || end > len(b) {
		return arrayElement{}, 0, false
	}
	text := b[start:end]
	if escaped {
		return arrayElement{text: []byte(unescapeQuoted(text))}, i, true
	}
	if len(text) == 4 && (text[0]|0x20) == 'n' && (text[1]|0x20) == 'u' && (text[2]|0x20) == 'l' && (text[3]|0x20) == 'l' {
		return arrayElement{null: true}, i, true
	}
	return arrayElement{text: text}, i, true
}

// arrayDecoder decodes each element with elem; NULL elements are null
// (Debezium's element schemas are optional).
func arrayDecoder(elem decodeFunc) decodeFunc {
	return func(b []byte) (pipeline.Value, error) {
		var stack [16]arrayElement
		elems, err := parseArray(b, stack[:0])
		if err != nil {
			return pipeline.Null, err
		}
		values := make([]pipeline.Value, len(elems))
		for i, e := range elems {
			if e.null {
				continue
			}
			v, err := elem(e.text)
			if err != nil {
				return pipeline.Null, errors.New("has an element that " + err.Error())
			}
			values[i] = v
		}
		return pipeline.Array(values...), nil
	}
}
