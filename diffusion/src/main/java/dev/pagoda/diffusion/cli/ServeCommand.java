package dev.pagoda.diffusion.cli;

import dev.pagoda.diffusion.pipeline.AutoPipelineForText2Image;
import dev.pagoda.diffusion.pipeline.PipelineOptions;
import dev.pagoda.diffusion.pipeline.SdxlPipeline;
import dev.pagoda.diffusion.studio.StudioServer;
import dev.pagoda.tensor.Backend;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.CountDownLatch;

/** {@code pagoda serve}: loads a model once and serves the studio page and its JSON API. */
final class ServeCommand {

    static final String HELP = """
            Usage: pagoda serve --model DIR|ORG/NAME [options]

            Serves the Pagoda studio: a page to generate with PAG, compare PAG scales x layer sets and
            browse results, and the JSON API under /api (see README). Jobs run one at a time, queued.

              --model DIR|ORG/NAME  pipeline folder, or a Hugging Face repo id in the local cache
              --host ADDR           address to bind (default 127.0.0.1: this machine only)
              --port N              port (default 7860; 0 picks a free one)
              --out DIR             output folder for images and the gallery (default ./outputs)
              --max-upload-mb N     largest request body, init image and mask included (default 32)
              --preview-every N     latent preview every N steps, 0 for none (default 2)
              --backend B           cpu (default), opencl or opencl:P:D, as for generate
              --tiled-vae           decode (and encode) the VAE in tiles to save memory
              --variant fp16        load *.fp16.safetensors where they exist (default: *.safetensors)
            Ctrl-C stops the server; a running job is cancelled and writes nothing.
            """;

    private static final Set<String> VALUED = Set.of("variant", "model", "host", "port", "out", "max-upload-mb",
            "preview-every", "backend");
    private static final Set<String> SWITCHES = Set.of("tiled-vae", "help");

    private ServeCommand() {
    }

    static int run(String[] argv, PrintStream out, PrintStream err) {
        Args a = new Args(argv, 1, VALUED, SWITCHES);
        if (a.has("help")) {
            out.print(HELP);
            return 0;
        }
        if (!a.positional().isEmpty()) {
            throw new UsageException("unexpected argument \"" + a.positional().get(0) + "\" (see --help)");
        }
        StudioServer server = start(a, err);
        out.println("Pagoda studio on " + server.uri() + " (Ctrl-C to stop)");
        out.flush();
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            err.println("pagoda: stopping the studio");
            server.close();
            stopped.countDown();
        }, "pagoda-serve-stop"));
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return 0;
    }

    /** Parses the options, loads the model and starts serving (also used by tests). */
    static StudioServer start(Args a, PrintStream err) {
        String modelArg = a.require("model");
        String host = a.get("host", "127.0.0.1");
        int port = a.integer("port", 7860);
        if (port < 0 || port > 65535) {
            throw new UsageException("--port must be in [0, 65535], got " + port);
        }
        int maxMb = a.integer("max-upload-mb", 32);
        if (maxMb <= 0) {
            throw new UsageException("--max-upload-mb must be positive, got " + maxMb);
        }
        int previewEvery = a.integer("preview-every", 2);
        if (previewEvery < 0) {
            throw new UsageException("--preview-every must be >= 0, got " + previewEvery);
        }
        try {
            if (!InetAddress.getByName(host).isLoopbackAddress()) {
                err.println("pagoda: warning: serving on " + host + ", which other machines may reach; the studio"
                        + " has no authentication");
            }
        } catch (UnknownHostException e) {
            throw new UsageException("--host " + host + ": unknown host");
        }
        Path model = ModelLocator.resolve(modelArg);
        Path outDir = Path.of(a.get("out", "outputs"));
        Backend backend = Main.backend(a.get("backend", "cpu"));
        long t0 = System.nanoTime();
        SdxlPipeline pipe = AutoPipelineForText2Image.fromPretrained(model,
                new PipelineOptions(true, List.of("mid"), a.fp16Variant()).backend(backend));
        try {
            StudioServer s = StudioServer.start(pipe, modelArg, new StudioServer.Settings(host, port, outDir,
                    maxMb * 1024L * 1024L, previewEvery, a.fp16Variant(), a.has("tiled-vae")));
            err.printf(Locale.ROOT, "pagoda: loaded %s in %.1f s, images go to %s%n", model,
                    (System.nanoTime() - t0) / 1e9, outDir.toAbsolutePath());
            return s;
        } catch (RuntimeException e) {
            pipe.close();
            throw e;
        }
    }
}
