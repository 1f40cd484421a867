package dev.pagoda.diffusion.studio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pagoda.diffusion.pipeline.AutoPipelineForText2Image;
import dev.pagoda.diffusion.pipeline.PipelineOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The studio page in a real headless Chromium (Debian's {@code chromium-headless-shell} or
 * {@code chromium}) against the tiny model: pick PAG layers, generate with live progress and the
 * final image, see a bad layer's server error next to the field, run a 2x2 compare grid, cancel a
 * run, reuse settings from the gallery. Screenshots go to {@code target/studio-screenshots/}.
 * Skipped, saying why, when no browser is installed, unless {@code -Dbrowser.required=true} (CI).
 */
class StudioBrowserTest {

    static final Path TINY = Path.of(System.getProperty("pagoda.golden"), "models", "tiny-sdxl");
    static final Path SHOTS = Path.of("target", "studio-screenshots");

    static List<String> files(Path dir) throws java.io.IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void thePageGeneratesComparesCancelsAndShowsErrors(@TempDir Path tmp) throws Exception {
        Path browser = Cdp.findBrowser();
        if (browser == null) {
            String why = "no headless Chromium on PATH (Debian: apt-get install chromium-headless-shell; or set"
                    + " -Dpagoda.chromium=/path/to/chrome)";
            if (Boolean.getBoolean("browser.required")) {
                throw new AssertionError(why + ", and -Dbrowser.required=true");
            }
            Assumptions.abort(why);
        }
        Path out = Files.createDirectories(tmp.resolve("outputs"));
        try (StudioServer server = StudioServer.start(AutoPipelineForText2Image.fromPretrained(TINY,
                PipelineOptions.pag(List.of("mid"))), "tiny-sdxl", StudioServer.Settings.defaults(out).port(0));
                Cdp page = Cdp.launch(browser, tmp.resolve("profile"), 1280, 1000)) {
            page.navigate(server.uri().toString());
            page.waitFor("the page to load the model info and layers", "document.body.dataset.ready === 'true'", 30);
            page.waitFor("the default layer check", "$('layers-status').textContent.startsWith('selects')", 10);
            page.screenshot(SHOTS.resolve("01-page.png"));

            // PAG layers: tick a block in the picker (built from the model's modules), then see the live check
            page.click("#layer-picker-box summary");
            page.waitFor("the picker", "document.querySelector('#layer-picker input[value=\"down_blocks.2\"]')", 5);
            page.click("#layer-picker input[value=\"down_blocks.2\"]");
            page.waitFor("the layer field to take the pick", "$('pag-layers').value === 'mid, down_blocks.2'", 5);
            page.waitFor("the live check of both patterns",
                    "/selects 9 self-attention modules/.test($('layers-status').textContent)", 10);
            page.click("#layer-picker-box summary");

            // generate: progress events with step i/n, s/it, ETA; the latent preview; the final image
            page.type("#prompt", "a pagoda in the mist");
            page.type("#steps", "4");
            page.type("#width", "64");
            page.type("#height", "64");
            page.type("#seed", "11");
            page.click("#generate");
            // Not "studio.job !== null": a warm JVM renders this 4-step 64² image between two 50 ms polls, and
            // the page clears studio.job on "done". The counters survive the end of the job, and step events
            // arrive only while its event stream is open, so they still prove the progress was live.
            page.waitFor("the first progress event", "studio.stepEvents >= 1", 60);
            page.waitFor("the final image", "$('result').complete && $('result').naturalWidth === 64", 60);
            assertEquals(4L, ((Number) page.eval("studio.stepEvents")).longValue());
            assertTrue(((Number) page.eval("studio.previews")).longValue() >= 1, "no latent preview");
            String lastStep = (String) page.eval("studio.lastStepText");
            assertTrue(lastStep.matches("step 4/4 · [0-9.]+ s/it · ETA 0 s"), lastStep);
            String caption = (String) page.eval("$('result-caption').textContent");
            assertTrue(caption.contains("64x64") && caption.contains("seed 11"), caption);
            assertEquals(1, files(out).size());
            page.screenshot(SHOTS.resolve("02-generated.png"));

            // a bad layer name: the server's message next to the field, live and on generate
            page.type("#pag-layers", "mid, middle_block");
            String expected = "Cannot find PAG layer to set attention processor for: middle_block";
            page.waitFor("the live layer error", "$('layers-status').classList.contains('bad') && $('layers-status')"
                    + ".textContent === " + JsonWriter.write(expected), 10);
            page.click("#generate");
            page.waitFor("the refused request's error next to the field",
                    "document.querySelector('[data-error-for=\"pag_layers\"]').textContent === "
                            + JsonWriter.write(expected), 10);
            page.screenshot(SHOTS.resolve("03-bad-layer.png"));
            page.type("#pag-layers", "mid");
            page.waitFor("the layer check to recover", "!$('layers-status').classList.contains('bad')", 10);

            // compare: a 2x2 grid of PAG scales x layer sets, cells clickable to full size with parameters
            page.click("button[data-tab=\"compare\"]");
            page.type("#cmp-scales", "0, 3");
            page.type("#cmp-sets", "mid\ndown_blocks.2");
            page.click("#compare-run");
            page.waitFor("four finished cells", "document.querySelectorAll('#grid td.done img').length === 4"
                    + " && [...document.querySelectorAll('#grid td.done img')].every(i => i.complete"
                    + " && i.naturalWidth === 64)", 120);
            page.click("#grid tr:nth-child(3) td:nth-child(3) img");
            page.waitFor("the lightbox", "!$('lightbox').hidden && $('lightbox-img').complete"
                    + " && $('lightbox-img').naturalWidth === 64", 10);
            String params = (String) page.eval("$('lightbox-params').textContent");
            assertTrue(params.contains("\"pag_scale\": 3") && params.contains("down_blocks.2"), params);
            page.screenshot(SHOTS.resolve("04-compare-lightbox.png"));
            page.click("#lightbox-close");
            page.screenshot(SHOTS.resolve("05-compare.png"));
            assertEquals(5, files(out).size());

            // cancel: stops at the next step, nothing written
            page.click("button[data-tab=\"generate\"]");
            page.type("#steps", "500");
            List<String> before = files(out);
            page.click("#generate");
            page.waitFor("a step of the long run", "studio.job !== null && studio.stepEvents >= 1", 60);
            page.click("#cancel");
            page.waitFor("the cancelled state", "/^cancelled after \\d+ steps; nothing written$/.test("
                    + "$('progress-text').textContent)", 60);
            assertTrue(((Number) page.eval("studio.stepEvents")).longValue() < 500);
            assertEquals(before, files(out), "a cancelled run wrote something");
            page.screenshot(SHOTS.resolve("06-cancelled.png"));

            // gallery: every image with its parameters; reuse puts them back in the form
            page.click("button[data-tab=\"gallery\"]");
            page.waitFor("five gallery cards", "document.querySelectorAll('#gallery .card').length === 5", 10);
            page.screenshot(SHOTS.resolve("07-gallery.png"));
            page.eval("[...document.querySelectorAll('#gallery .card')].find(c => c.textContent.includes('seed 11'))"
                    + ".setAttribute('id', 'pick')");
            page.click("#pick button");
            page.waitFor("the reused settings", "$('view-generate').classList.contains('active')"
                    + " && $('seed').value === '11' && $('prompt').value === 'a pagoda in the mist'", 10);
            assertTrue(page.console().stream().noneMatch(c -> c.contains("exceptionDetails")), page.console()
                    .toString());
        }
    }
}
