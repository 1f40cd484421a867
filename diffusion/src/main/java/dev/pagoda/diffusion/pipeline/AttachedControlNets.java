package dev.pagoda.diffusion.pipeline;

import dev.pagoda.nn.controlnet.ControlNetModel;
import dev.pagoda.nn.controlnet.MultiControlNetModel;
import dev.pagoda.tensor.Backend;
import java.util.ArrayList;
import java.util.List;

/**
 * The ControlNets a set of pipeline components has taken over: each moved to the components' backend
 * once (and along with any later move), and closed with the components' weights. Shared by the SDXL
 * and SD 1.x/2.x components.
 */
final class AttachedControlNets {

    private final List<ControlNetModel> nets = new ArrayList<>();

    /** Takes {@code add} (nets already held are kept once); returns them as one model, or null for none. */
    synchronized MultiControlNetModel attach(List<ControlNetModel> add, Backend backend) {
        if (add.isEmpty()) {
            return null;
        }
        for (ControlNetModel net : add) {
            if (!nets.contains(net)) {
                net.to(backend);
                nets.add(net);
            }
        }
        return new MultiControlNetModel(add);
    }

    synchronized void moveTo(Backend target) {
        nets.forEach(net -> net.to(target));
    }

    synchronized void close() {
        nets.forEach(ControlNetModel::close);
        nets.clear();
    }
}
