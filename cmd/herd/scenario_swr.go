package main

import (
	"context"
	"fmt"
)

// swrScenario: the hot key's moment again, read with GetStaleWhileRevalidate (the no-protection column has only
// cache-aside Get).
var swrScenario = &scenario{
	name: "swr",
	title: func(o *options) string {
		return fmt.Sprintf("STALE-WHILE-REVALIDATE: %s read the hot key the moment it expires "+
			"(GetStaleWhileRevalidate; cache-aside Get without protection)", procsClients(o.procs, o.clients))
	},
	realTime: true,
	run:      func(ctx context.Context, r *runner) error { return burst(ctx, r, true) },
}
