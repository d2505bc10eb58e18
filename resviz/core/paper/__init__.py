"""The paper's CIFAR-10 section (He et al. 2016, section 4.2) as one experiment.

``resviz experiment paper`` and the app's Run > Reproduce the paper train every net of
:class:`~.plan.PaperPlan` with the paper's recipe, then compare with the paper:

* :mod:`.numbers`: what the paper reports (Table 6, the captions of Fig. 6 and Fig. 7);
* :mod:`.plan`: which nets, with which settings, in which lockstep groups;
* :mod:`.cost`: what the experiment will cost on this device, measured before it starts;
* :mod:`.results`: what a run folder (or the app's live run) contributes to the comparison;
* :mod:`.table`: Table 6, ours beside the paper's;
* :mod:`.claims`: each claim of the section, with its verdict and the numbers it rests on;
* :mod:`.figures`: Fig. 6 and Fig. 7 drawn from the runs' folders;
* :mod:`.report`: all the files of an experiment folder, written from its runs;
* :mod:`.run`: training the plan (new or resumed) and writing the report.
"""
