package mongodb

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// CheckStatus is the outcome of one prerequisite check.
type CheckStatus string

// Check outcomes.
const (
	CheckPass CheckStatus = "pass"
	CheckWarn CheckStatus = "warn"
	CheckFail CheckStatus = "fail"
)

// CheckResult is one line of `siphon check`.
type CheckResult struct {
	Name   string
	Status CheckStatus
	Detail string
	Fix    string
}

// CheckConfig is what Check needs.
type CheckConfig struct {
	URL        string
	Filter     Filter
	Snapshot   string
	Stored     []byte // the stored position, nil when none
	StoredNote string // why there is none, when it could not be read
}

// Check verifies what the MongoDB source needs: a reachable replica set,
// change streams, and a stored resume token still in the oplog.
func Check(ctx context.Context, cfg CheckConfig) []CheckResult {
	var out []CheckResult
	add := func(name string, s CheckStatus, detail, fix string) {
		out = append(out, CheckResult{Name: name, Status: s, Detail: detail, Fix: fix})
	}
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	client, err := connect(ctx, cfg.URL)
	if err != nil {
		add("connect", CheckFail, err.Error(), "check the url and that the server is reachable")
		return out
	}
	defer func() { _ = client.Disconnect(context.Background()) }()
	var hello struct {
		SetName        string `bson:"setName"`
		MaxWireVersion int32  `bson:"maxWireVersion"`
	}
	if err := client.Database("admin").RunCommand(ctx, bson.D{{Key: "hello", Value: 1}}).Decode(&hello); err != nil {
		add("connect", CheckFail, "hello: "+err.Error(), "")
		return out
	}
	if hello.SetName == "" {
		add("replica set", CheckFail, "the server is not a replica-set member: change streams need one",
			"start mongod with --replSet rs0 and run rs.initiate() (a single-node replica set will do)")
		return out
	}
	add("replica set", CheckPass, fmt.Sprintf("replica set %s, wire version %d", hello.SetName, hello.MaxWireVersion), "")
	if hello.MaxWireVersion < 17 {
		add("wallTime", CheckWarn, "MongoDB before 6.0 sends no wallTime: source.ts_ms falls back to the cluster time's seconds", "MongoDB 6.0 or later")
	}

	opts := options.ChangeStream().SetMaxAwaitTime(100 * time.Millisecond)
	if cfg.Stored != nil {
		p, err := DecodePosition(cfg.Stored)
		if err != nil {
			add("stored position", CheckFail, err.Error(), "siphon offsets reset --pipeline <name>")
			return out
		}
		if tok, _ := p.Token(); tok != nil {
			opts.SetResumeAfter(tok)
		}
		cs, err := client.Watch(ctx, mongo.Pipeline{}, opts)
		switch {
		case err != nil && isHistoryLost(err) && cfg.Snapshot == "when_needed":
			add("stored position", CheckWarn, fmt.Sprintf("%s is no longer in the oplog: the next run takes a new snapshot (snapshot: when_needed)", p), "")
		case err != nil && isHistoryLost(err):
			add("stored position", CheckFail, fmt.Sprintf("%s is no longer in the oplog (ChangeStreamHistoryLost)", p),
				"set snapshot: when_needed, or reset the position; size the oplog for the longest downtime")
		case err != nil:
			add("change streams", CheckFail, err.Error(), "")
		default:
			_ = cs.Close(ctx)
			add("stored position", CheckPass, p.String()+" is still in the oplog", "")
		}
		return out
	}
	cs, err := client.Watch(ctx, mongo.Pipeline{}, opts)
	if err != nil {
		var se mongo.ServerError
		if errors.As(err, &se) {
			add("change streams", CheckFail, err.Error(), "grant the user changeStream and find on the captured databases")
		} else {
			add("change streams", CheckFail, err.Error(), "")
		}
		return out
	}
	_ = cs.Close(ctx)
	detail := "a deployment-scope change stream opens"
	if cfg.StoredNote != "" {
		detail += "; " + cfg.StoredNote
	}
	add("change streams", CheckPass, detail, "")
	return out
}
