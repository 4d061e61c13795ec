// Package verify owns `siphon verify`: the comparison of a captured source
// table with the table a database sink writes it to.
//
// Both sides are read row by row and turned into a canonical form that is
// equal when the sink applied the row correctly: the source row is decoded
// into the pipeline's values with the snapshot's own decoders (the values
// the sink received), the target row is read back as text, and both are
// rendered per logical kind (sqlapply.Kind) after the documented type
// mapping — numbers as exact decimal text, temporals as microseconds in
// UTC, bytes as hex, JSON re-encoded with sorted keys. Rows are hashed
// column by column.
//
// Pass 1 reads the source in primary-key chunks. For a key of one integer
// column it reads the target rows of the same key range (both engines
// order integers alike), which also finds the rows only the target has.
// For any other key it reads the target rows of exactly the chunk's keys
// (key IN (…)), so that the two engines never have to agree on a key order
// (collations differ), and pass 2 reads the target's keys in its own
// order: when they are the keys pass 1 found (an order-independent
// digest), the target has no others; else each is looked up in the source
// to find the rows only the target has.
//
// A differing key is read again on both sides a few times with a growing
// delay, so that a running pipeline can catch up; only differences that
// persist are reported. Tables without a primary key are compared as
// multisets (count and order-independent hash sums).
package verify
