package dev.pagoda.nn.unet;

import dev.pagoda.tensor.Backend;
import dev.pagoda.tensor.Shapes;
import dev.pagoda.tensor.Tensor;

/**
 * The conditioning the UNet and the ControlNet compute alike before their blocks: the timestep
 * embedding, plus SDXL's {@code text_time} addition ({@code add_embedding} of the pooled text
 * embedding and the sinusoidal projection of the time ids: six size/crop ids, or the refiner's five ending with the
 * aesthetic score), and the checks of those inputs.
 */
public final class TimeConditioning {

    private TimeConditioning() {
    }

    /**
     * {@code time_embedding(proj(t)) [+ add_embedding([text_embeds, proj(time_ids)])]} for a batch of
     * {@code b}; {@code timesteps} has one entry for the whole batch or one per row.
     */
    public static Tensor embed(UNetConfig c, TimestepEmbedding time, TimestepEmbedding add, Backend be,
            float[] timesteps, int b, Tensor textEmbeds, Tensor timeIds) {
        float[] ts = new float[b];
        for (int i = 0; i < b; i++) {
            ts[i] = timesteps.length == 1 ? timesteps[0] : timesteps[i];
        }
        int ch0 = c.blockOutChannels()[0];
        Tensor tProj = be.timestepEmbedding(Tensor.of(ts, b), ch0, c.flipSinToCos(), c.freqShift(), 1f, 10000);
        Tensor emb = time.forward(tProj);
        if (add != null) {
            Tensor ids = timeIds.reshape(-1);
            Tensor timeProj = be.timestepEmbedding(ids, c.additionTimeEmbedDim(), c.flipSinToCos(), c.freqShift(),
                    1f, 10000).reshape(b, -1);
            emb = be.add(emb, add.forward(be.concat(1, textEmbeds, timeProj)));
        }
        return emb;
    }

    /**
     * Checks timesteps, {@code encoder_hidden_states} and (with {@code text_time}) {@code text_embeds}
     * and {@code time_ids} against a batch of {@code b}; {@code who} names the model in the message.
     */
    public static void validate(String who, UNetConfig c, int b, float[] timesteps, Tensor encoderHiddenStates,
            Tensor textEmbeds, Tensor timeIds) {
        if (timesteps == null || (timesteps.length != 1 && timesteps.length != b)) {
            throw new IllegalArgumentException(who + ": " + (timesteps == null ? "no" : timesteps.length)
                    + " timesteps for batch " + b);
        }
        Tensor ehs = encoderHiddenStates;
        if (ehs == null || ehs.rank() != 3 || ehs.dim(0) != b || ehs.dim(2) != c.crossAttentionDim()) {
            throw new IllegalArgumentException(who + ": encoder_hidden_states must be [" + b + ", L, "
                    + c.crossAttentionDim() + "], got " + (ehs == null ? "null" : Shapes.str(ehs.shape())));
        }
        if (c.textTime()) {
            // diffusers flattens however many time ids there are (6 for the base: sizes and crop, 5 for the
            // refiner: sizes, crop and the aesthetic score); only add_embedding's input width must add up
            if (timeIds == null || timeIds.rank() != 2 || timeIds.dim(0) != b || timeIds.dim(1) < 1) {
                throw new IllegalArgumentException(who + ": time_ids must be [" + b + ", ids], got "
                        + (timeIds == null ? "null" : Shapes.str(timeIds.shape())));
            }
            int textDim = c.projectionClassEmbeddingsInputDim() - timeIds.dim(1) * c.additionTimeEmbedDim();
            if (textEmbeds == null || textEmbeds.rank() != 2 || textEmbeds.dim(0) != b || textEmbeds.dim(1) != textDim) {
                throw new IllegalArgumentException(who + ": text_embeds must be [" + b + ", " + textDim + "] with "
                        + timeIds.dim(1) + " time ids (projection_class_embeddings_input_dim "
                        + c.projectionClassEmbeddingsInputDim() + "), got "
                        + (textEmbeds == null ? "null" : Shapes.str(textEmbeds.shape())));
            }
        }
    }
}
