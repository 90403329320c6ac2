/**
 * The seed's experiments, end to end: {@link advtrain.experiments.Plan} (how big a reproduction is:
 * the seed's full recipe or a quick one), {@link advtrain.experiments.Reproduce} (trains the models
 * through {@link advtrain.train.TrainingRun}, reusing those already in the output folder, runs the
 * attacks, draws every figure with its CSV) and {@link advtrain.experiments.Report} (report.md, with
 * a table that sets each measurement against the seed's claim and says where they differ).
 *
 * <p>Layered above {@code train}, {@code attack} and {@code report}; the {@code reproduce} and
 * {@code demo} commands call it.
 */
package advtrain.experiments;
