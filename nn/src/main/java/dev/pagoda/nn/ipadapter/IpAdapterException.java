package dev.pagoda.nn.ipadapter;

/** An IP-Adapter file, image encoder or call argument that cannot be used; the message names it. */
public class IpAdapterException extends RuntimeException {
    public IpAdapterException(String message) {
        super(message);
    }
}
