// The whole memo service for a kind cluster, one manifest per object: the same objects, byte for
// byte, as `npm run synth` of the memostack repository writes to dist/kind (without the
// kustomization and secret files, which its main.ts adds).
//
// Usage: go run . <output folder>
package main

import (
	"os"

	"github.com/aws/jsii-runtime-go"
	"github.com/cdk8s-team/cdk8s-core-go/cdk8s/v2"
	"github.com/memostack/memostack-go/memostack"
)

func main() {
	outdir := "dist/kind"
	if len(os.Args) > 1 {
		outdir = os.Args[1]
	}
	app := cdk8s.NewApp(&cdk8s.AppProps{
		Outdir:              jsii.String(outdir),
		YamlOutputType:      cdk8s.YamlOutputType_FILE_PER_RESOURCE,
		OutputFileExtension: jsii.String(".k8s.yaml"),
	})
	memostack.NewMemoStack(app, jsii.String("memo"), &memostack.MemoStackProps{Profile: memostack.Profiles_KIND()})
	app.Synth()
}
