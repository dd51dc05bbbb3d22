package com.example;

import io.memostack.MemoStack;
import io.memostack.MemoStackProps;
import io.memostack.Profiles;
import org.cdk8s.App;
import org.cdk8s.AppProps;
import org.cdk8s.YamlOutputType;

/**
 * The whole memo service for a kind cluster, one manifest per object: the same objects, byte for
 * byte, as `npm run synth` of the memostack repository writes to dist/kind (without the
 * kustomization and secret files, which its main.ts adds).
 */
public final class KindStack {
  private KindStack() {}

  public static void main(final String[] args) {
    App app = new App(AppProps.builder()
        .outdir(args.length > 0 ? args[0] : "dist/kind")
        .yamlOutputType(YamlOutputType.FILE_PER_RESOURCE)
        .outputFileExtension(".k8s.yaml")
        .build());
    new MemoStack(app, "memo", MemoStackProps.builder().profile(Profiles.KIND).build());
    app.synth();
  }
}
