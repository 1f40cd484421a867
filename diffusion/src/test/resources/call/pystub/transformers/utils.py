# File names transformers exports and diffusers' loading code imports.
FLAX_WEIGHTS_NAME = "flax_model.msgpack"
SAFE_WEIGHTS_NAME = "model.safetensors"
WEIGHTS_NAME = "pytorch_model.bin"
