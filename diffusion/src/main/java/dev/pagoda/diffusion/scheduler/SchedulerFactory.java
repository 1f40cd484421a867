package dev.pagoda.diffusion.scheduler;

import dev.pagoda.nn.ConfigException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Function;

/**
 * Builds schedulers from diffusers configs: the class named by {@code _class_name}, or another
 * class from the same config when the user switches samplers (diffusers'
 * {@code OtherScheduler.from_config(pipe.scheduler.config)}).
 */
public final class SchedulerFactory {

    /** The diffusers class names this factory can build. */
    public static final List<String> SUPPORTED = List.of(
            EulerDiscreteScheduler.CLASS_NAME,
            EulerAncestralDiscreteScheduler.CLASS_NAME,
            DPMSolverMultistepScheduler.CLASS_NAME,
            DDIMScheduler.CLASS_NAME,
            HeunDiscreteScheduler.CLASS_NAME,
            LMSDiscreteScheduler.CLASS_NAME,
            KDPM2DiscreteScheduler.CLASS_NAME,
            KDPM2AncestralDiscreteScheduler.CLASS_NAME,
            DDPMScheduler.CLASS_NAME,
            LCMScheduler.CLASS_NAME,
            TCDScheduler.CLASS_NAME,
            PNDMScheduler.CLASS_NAME,
            UniPCMultistepScheduler.CLASS_NAME,
            DEISMultistepScheduler.CLASS_NAME,
            DPMSolverSinglestepScheduler.CLASS_NAME,
            DPMSolverSDEScheduler.CLASS_NAME);

    private SchedulerFactory() {
    }

    /** The scheduler of a diffusers model folder: {@code <modelDir>/scheduler/scheduler_config.json}. */
    public static Scheduler fromPretrained(Path modelDir) {
        Path file = modelDir.resolve("scheduler").resolve(SchedulerConfig.FILE_NAME);
        if (!Files.isRegularFile(file)) {
            throw new ConfigException("model folder " + modelDir + " has no scheduler config (expected "
                    + file + ")");
        }
        return fromConfig(SchedulerConfig.read(file));
    }

    /** The scheduler of one {@code scheduler_config.json} file. */
    public static Scheduler fromConfigFile(Path file) {
        return fromConfig(SchedulerConfig.read(file));
    }

    /** The class named by the config's {@code _class_name}. */
    public static Scheduler fromConfig(SchedulerConfig config) {
        String name = config.className();
        if (name == null) {
            throw new ConfigException("scheduler config " + config.source()
                    + " has no \"_class_name\"; expected one of " + SchedulerConfig.quoted(SUPPORTED));
        }
        return create(name, config);
    }

    /**
     * The scheduler {@code className} built from {@code config}, whatever class the config was written
     * for; fields the class does not know are ignored.
     *
     * @throws IllegalArgumentException naming the class when it is not supported, or naming the field
     *     when the config holds a value the class does not accept
     */
    public static Scheduler create(String className, SchedulerConfig config) {
        Function<SchedulerConfig, Scheduler> ctor = switch (className) {
            case EulerDiscreteScheduler.CLASS_NAME -> EulerDiscreteScheduler::new;
            case EulerAncestralDiscreteScheduler.CLASS_NAME -> EulerAncestralDiscreteScheduler::new;
            case DPMSolverMultistepScheduler.CLASS_NAME -> DPMSolverMultistepScheduler::new;
            case DDIMScheduler.CLASS_NAME -> DDIMScheduler::new;
            case HeunDiscreteScheduler.CLASS_NAME -> HeunDiscreteScheduler::new;
            case LMSDiscreteScheduler.CLASS_NAME -> LMSDiscreteScheduler::new;
            case KDPM2DiscreteScheduler.CLASS_NAME -> KDPM2DiscreteScheduler::new;
            case KDPM2AncestralDiscreteScheduler.CLASS_NAME -> KDPM2AncestralDiscreteScheduler::new;
            case DDPMScheduler.CLASS_NAME -> DDPMScheduler::new;
            case LCMScheduler.CLASS_NAME -> LCMScheduler::new;
            case TCDScheduler.CLASS_NAME -> TCDScheduler::new;
            case PNDMScheduler.CLASS_NAME -> PNDMScheduler::new;
            case UniPCMultistepScheduler.CLASS_NAME -> UniPCMultistepScheduler::new;
            case DEISMultistepScheduler.CLASS_NAME -> DEISMultistepScheduler::new;
            case DPMSolverSinglestepScheduler.CLASS_NAME -> DPMSolverSinglestepScheduler::new;
            case DPMSolverSDEScheduler.CLASS_NAME -> DPMSolverSDEScheduler::new;
            default -> throw new ConfigException("scheduler config " + config.source()
                    + ": \"_class_name\" is \"" + className + "\"; expected one of "
                    + SchedulerConfig.quoted(SUPPORTED));
        };
        return ctor.apply(config);
    }
}
