package mongosim

import (
	"fmt"

	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"
)

// Server error codes (src/mongo/base/error_codes.yml) the simulator returns.
const (
	codeHostUnreachable                    = 6
	codeBadValue                           = 2
	codeFailedToParse                      = 9
	codeUnauthorized                       = 13
	codeTypeMismatch                       = 14
	codeIllegalOperation                   = 20
	codeNamespaceNotFound                  = 26
	codeConflictingUpdateOperators         = 40
	codeCursorNotFound                     = 43
	codeNoMatchingDocument                 = 47
	codeNamespaceExists                    = 48
	codeMaxTimeMSExpired                   = 50
	codeCommandNotFound                    = 59
	codeImmutableField                     = 66
	codeInvalidOptions                     = 72
	codeInvalidNamespace                   = 73
	codeShutdownInProgress                 = 91
	codeWriteConflict                      = 112
	codeTransactionTooOld                  = 225
	codeNoSuchTransaction                  = 251
	codeTransactionCommitted               = 256
	codeInvalidResumeToken                 = 260
	codeOperationNotSupportedInTransaction = 263
	codeChangeStreamFatalError             = 280
	codeChangeStreamHistoryLost            = 286
	codeNotWritablePrimary                 = 10107
	codeInterruptedAtShutdown              = 11600
	codeDuplicateKey                       = 11000
	codeUnknownField                       = 40415
)

var codeNames = map[int32]string{
	codeHostUnreachable:                    "HostUnreachable",
	codeBadValue:                           "BadValue",
	codeFailedToParse:                      "FailedToParse",
	codeUnauthorized:                       "Unauthorized",
	codeTypeMismatch:                       "TypeMismatch",
	codeIllegalOperation:                   "IllegalOperation",
	codeNamespaceNotFound:                  "NamespaceNotFound",
	codeConflictingUpdateOperators:         "ConflictingUpdateOperators",
	codeCursorNotFound:                     "CursorNotFound",
	codeNoMatchingDocument:                 "NoMatchingDocument",
	codeNamespaceExists:                    "NamespaceExists",
	codeMaxTimeMSExpired:                   "MaxTimeMSExpired",
	codeCommandNotFound:                    "CommandNotFound",
	codeImmutableField:                     "ImmutableField",
	codeInvalidOptions:                     "InvalidOptions",
	codeInvalidNamespace:                   "InvalidNamespace",
	codeShutdownInProgress:                 "ShutdownInProgress",
	codeWriteConflict:                      "WriteConflict",
	codeTransactionTooOld:                  "TransactionTooOld",
	codeNoSuchTransaction:                  "NoSuchTransaction",
	codeTransactionCommitted:               "TransactionCommitted",
	codeInvalidResumeToken:                 "InvalidResumeToken",
	codeOperationNotSupportedInTransaction: "OperationNotSupportedInTransaction",
	codeChangeStreamFatalError:             "ChangeStreamFatalError",
	codeChangeStreamHistoryLost:            "ChangeStreamHistoryLost",
	codeNotWritablePrimary:                 "NotWritablePrimary",
	codeInterruptedAtShutdown:              "InterruptedAtShutdown",
	codeDuplicateKey:                       "DuplicateKey",
}

// codeName returns the server's codeName; codes defined inline in server code (uassert with a
// number) are named "Location<code>".
func codeName(code int32) string {
	if n, ok := codeNames[code]; ok {
		return n
	}
	return fmt.Sprintf("Location%d", code)
}

// commandError is a command failure, sent as {ok: 0, errmsg, code, codeName[, errorLabels]}.
type commandError struct {
	code   int32
	msg    string
	labels []string
}

func (e *commandError) Error() string {
	return fmt.Sprintf("%s (%d): %s", codeName(e.code), e.code, e.msg)
}

func errorf(code int32, format string, args ...any) *commandError {
	return &commandError{code: code, msg: fmt.Sprintf(format, args...)}
}

// appendErrorFields appends the failure fields in the order a 7.0 server writes them
// (ok, errmsg, code, codeName, errorLabels).
func appendErrorFields(dst []byte, e *commandError) []byte {
	dst = bsoncore.AppendDoubleElement(dst, "ok", 0)
	dst = bsoncore.AppendStringElement(dst, "errmsg", e.msg)
	dst = bsoncore.AppendInt32Element(dst, "code", e.code)
	dst = bsoncore.AppendStringElement(dst, "codeName", codeName(e.code))
	if len(e.labels) > 0 {
		idx, b := bsoncore.AppendArrayElementStart(dst, "errorLabels")
		for i, l := range e.labels {
			b = bsoncore.AppendStringElement(b, arrayKey(i), l)
		}
		dst, _ = bsoncore.AppendArrayEnd(b, idx)
	}
	return dst
}
