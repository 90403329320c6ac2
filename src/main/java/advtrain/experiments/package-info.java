/**
 * The seed's experiments, end to end: {@link advtrain.experiments.Plan} (how big a reproduction is:
 * the seed's full recipe or a quick one), {@link advtrain.experiments.Reproduce} (runs the stages in
 * order and holds what they find), {@link advtrain.experiments.Models} (trains the models through
 * {@link advtrain.train.TrainingRun}, reusing those already in the output folder),
 * {@link advtrain.experiments.PictureFigures} and {@link advtrain.experiments.AttackFigures} (run the
 * attacks, draw every figure with its CSV), {@link advtrain.experiments.ReproduceProgress} (the estimate of
 * the duration and the time left) and {@link advtrain.experiments.ReproductionReport} (report.md, with a table
 * that sets each measurement against the seed's claim and says where they differ). A new experiment
 * is a stage: a class beside {@code AttackFigures} that draws its figure, a record of its findings in
 * {@code Reproduce}, and a section of {@code ReproductionReport}.
 *
 * <p>Layered above {@code train}, {@code attack} and {@code report}; the {@code reproduce} and
 * {@code demo} commands call it.
 */
package advtrain.experiments;
