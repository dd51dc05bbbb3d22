// A chart of your own: the backing constructs of memostack, wired with typed endpoints, in your
// namespace and with your names (examples/typescript/shop-chart.ts in Go).
//
// Usage: go run ./shop [output folder, default dist]
package main

import (
	"os"

	"github.com/aws/jsii-runtime-go"
	"github.com/cdk8s-team/cdk8s-core-go/cdk8s/v2"
	"github.com/memostack/memostack-go/memostack"
)

func main() {
	outdir := "dist"
	if len(os.Args) > 1 {
		outdir = os.Args[1]
	}
	app := cdk8s.NewApp(&cdk8s.AppProps{Outdir: jsii.String(outdir)})
	chart := cdk8s.NewChart(app, jsii.String("shop"), &cdk8s.ChartProps{
		Namespace:                 jsii.String("shop"),
		DisableResourceNameHashes: jsii.Bool(true),
	})
	memostack.Connections_DefaultDeny(chart, jsii.String("deny"), jsii.String("shop"))

	db := memostack.NewMariaDbStatefulSet(chart, jsii.String("db"), &memostack.MariaDbStatefulSetProps{
		Name:         jsii.String("shop-db"),
		DatabaseName: jsii.String("shop"),
		StorageGiB:   jsii.Number(20),
	})
	cache := memostack.NewRedisCache(chart, jsii.String("cache"), &memostack.RedisCacheProps{
		Name:      jsii.String("shop-cache"),
		Resources: memostack.ResourcePreset_SMALL(),
	})
	events := memostack.NewKafkaCluster(chart, jsii.String("events"), &memostack.KafkaClusterProps{
		Name:     jsii.String("shop-kafka"),
		Replicas: jsii.Number(3),
	})
	events.AddTopic(jsii.String("shop_memos"), &memostack.KafkaTopicOptions{Partitions: jsii.Number(12)})

	// Typed wiring: env, secretKeyRefs and NetworkPolicies for exactly these flows.
	api := memostack.NewMemoApi(chart, jsii.String("api"), &memostack.MemoApiProps{
		Database:   db,
		Cache:      cache,
		Events:     events,
		KafkaTopic: jsii.String("shop_memos"),
		Image:      jsii.String("memo-api:0.1.0"),
		// Writes need a token from this issuer; or AllowAnonymousWrites: jsii.Bool(true).
		OidcIssuerUrl: jsii.String("https://login.shop.example/realms/shop"),
		OidcAudience:  jsii.String("memo-api"),
		OidcAdminRole: jsii.String("memo-admin"),
	})

	monitoring := memostack.NewMonitoringStack(chart, jsii.String("monitoring"), nil)
	for _, component := range []memostack.IMonitored{db, cache, events, api} {
		monitoring.Monitor(component)
	}
	app.Synth()
}
