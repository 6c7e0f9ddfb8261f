"""What people SEE of a sweep: live progress, TensorBoard scalars and HParams, failure lines,
and the report (plots and markdown) of a finished or running experiment. The Ray Tune callbacks
here are attached by `execution`; the report reads only the experiment folder.
"""
