package dev.pagoda.tensor.random;

import dev.pagoda.tensor.Shapes;
import dev.pagoda.tensor.Tensor;
import java.util.List;

/**
 * diffusers' {@code generator} given as a list: {@code randn_tensor} then draws row {@code i} of
 * every batched draw from generator {@code i} (each a {@code [1, ...]} draw) and concatenates them,
 * so image {@code i} of a batch is the image that generator alone would give.
 */
public final class PerImageNoise implements NoiseSource {

    private final List<NoiseSource> perImage;

    PerImageNoise(List<? extends NoiseSource> perImage) {
        if (perImage == null || perImage.isEmpty() || perImage.stream().anyMatch(java.util.Objects::isNull)) {
            throw new IllegalArgumentException("a generator list needs one non-null generator per image, got "
                    + perImage);
        }
        this.perImage = List.copyOf(perImage);
    }

    /** How many generators (images) the list holds. */
    public int size() {
        return perImage.size();
    }

    /**
     * The first generator: diffusers' {@code _encode_vae_image} draws a one-row image's sample from
     * {@code generator[0]} alone (inpainting's image and masked-image latents).
     */
    public NoiseSource first() {
        return perImage.get(0);
    }

    /**
     * @throws IllegalArgumentException when the draw's batch size is not the number of generators (as
     *                                  diffusers' "You have passed a list of generators of length ...")
     */
    @Override
    public Tensor next(int... shape) {
        if (shape.length == 0 || shape[0] != perImage.size()) {
            throw new IllegalArgumentException("a list of " + perImage.size() + " generators was given, but a draw of "
                    + Shapes.str(shape) + " needs one generator per row of its batch (give one generator per prompt"
                    + " x image)");
        }
        int[] one = shape.clone();
        one[0] = 1;
        int rowSize = 1;
        for (int i = 1; i < shape.length; i++) {
            rowSize = Math.multiplyExact(rowSize, shape[i]);
        }
        float[] out = new float[Math.multiplyExact(rowSize, shape[0])];
        for (int i = 0; i < perImage.size(); i++) {
            System.arraycopy(perImage.get(i).next(one).contiguous().toFloatArray(), 0, out, i * rowSize, rowSize);
        }
        return Tensor.of(out, shape);
    }
}
