package dev.pagoda.nn.controlnet;

import java.util.List;

/**
 * diffusers' {@code MultiControlNetModel}: several ControlNets, each with its own control image and
 * scale, whose residuals are summed (in list order) before they reach the UNet.
 */
public final class MultiControlNetModel implements AutoCloseable {

    private final List<ControlNetModel> nets;

    public MultiControlNetModel(List<ControlNetModel> nets) {
        if (nets == null || nets.isEmpty()) {
            throw new IllegalArgumentException("MultiControlNetModel: at least one ControlNet is required");
        }
        this.nets = List.copyOf(nets);
    }

    public List<ControlNetModel> nets() {
        return nets;
    }

    public int size() {
        return nets.size();
    }

    /**
     * Checks every net against the UNet it feeds ({@link ControlNetModel#checkCompatible}), naming it
     * "ControlNet k".
     *
     * @throws IllegalArgumentException for the first net that does not fit
     */
    public void checkCompatible(dev.pagoda.nn.unet.UNet2DConditionModel unet) {
        for (int k = 0; k < nets.size(); k++) {
            nets.get(k).checkCompatible(unet, "ControlNet " + k);
        }
    }

    /**
     * Runs net {@code k} on {@code base} with {@code images.get(k)} and {@code scales[k]} and sums the
     * residuals. A net whose scale is 0 contributes zeros and is skipped, unless every net's is (then
     * the first runs, so the result still has the residuals' shapes).
     */
    public ControlNetModel.Output forward(ControlNetModel.Input base, List<dev.pagoda.tensor.Tensor> images,
            float[] scales) {
        if (images.size() != nets.size() || scales.length != nets.size()) {
            throw new IllegalArgumentException("MultiControlNetModel: " + nets.size() + " ControlNets need as many"
                    + " control images and scales, got " + images.size() + " images and " + scales.length + " scales");
        }
        ControlNetModel.Output sum = null;
        for (int k = 0; k < nets.size(); k++) {
            if (scales[k] == 0f && (sum != null || anyNonZero(scales))) {
                continue;
            }
            ControlNetModel.Input in = new ControlNetModel.Input(base.sample(), base.timesteps(),
                    base.encoderHiddenStates(), base.textEmbeds(), base.timeIds(), images.get(k), scales[k],
                    base.guessMode(), base.contextCache());
            ControlNetModel.Output out = nets.get(k).forward(in);
            sum = sum == null ? out : sum.plus(out);
        }
        return sum;
    }

    private static boolean anyNonZero(float[] scales) {
        for (float s : scales) {
            if (s != 0f) {
                return true;
            }
        }
        return false;
    }

    /** Closes every net. */
    @Override
    public void close() {
        nets.forEach(ControlNetModel::close);
    }
}
