package advtrain.io;

/**
 * An option value, or a combination of options, that the user got wrong (--epochs 0, resuming with
 * another recipe): the command line reports it as a usage error, exit status 2. Every other
 * IllegalArgumentException that reaches the command line is a fault of the program: exit status 1.
 */
public class InvalidOptionException extends IllegalArgumentException {
    public InvalidOptionException(String message) { super(message); }
}
