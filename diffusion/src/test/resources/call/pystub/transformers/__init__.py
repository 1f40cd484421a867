# Stand-in for the transformers package: only the class names diffusers' pipeline modules import.
__version__ = "4.45.0"
class _Stub:
    def __init__(self, *a, **k):
        raise RuntimeError("transformers stub: text/image encoders are not available")
def __getattr__(name):
    if name.startswith("__"):
        raise AttributeError(name)
    return type(name, (_Stub,), {})
