function mpc = case5_features
%CASE5_FEATURES  A small case using the parts of the MATPOWER format the importer reads:
%   two voltage levels joined by off-nominal transformers, parallel branches, an unlimited
%   branch (rateA = 0), a shunt conductance, an isolated bus with a load and a generator,
%   out-of-service equipment, linear, polynomial-with-zero-quadratic and piecewise-linear
%   costs (extended beyond the last breakpoint), a start-up cost, Inf limits, bus names,
%   comments after data and a continuation line.

%% MATPOWER Case Format : Version 2
mpc.version = '2';

%%-----  Power Flow Data  -----%%
%% system MVA base
mpc.baseMVA = 100;	% the system's base, MVA

%% bus data
%	bus_i	type	Pd	Qd	Gs	Bs	area	Vm	Va	baseKV	zone	Vmax	Vmin
mpc.bus = [
	1	3	0	0	0	0	1	1	0	230	1	1.1	0.9;
	2	2	100	20	0	0	1	1	0	230	1	1.1	0.9;
	3	1	150	30	10	5	2	1	0	115	1	1.1	0.9;	% 10 MW of shunt load
	4	1	90	10	0	0	2	1	0	115	1	1.1	0.9;
	5	4	40	5	0	0	2	1	0	115	1	1.1	0.9;	% isolated
];

%% generator data
%	bus	Pg	Qg	Qmax	Qmin	Vg	mBase	status	Pmax	Pmin	Pc1	Pc2	Qc1min	Qc1max	Qc2min	Qc2max	ramp_agc	ramp_10	ramp_30	ramp_q	apf
mpc.gen = [
	1	0	0	Inf	-Inf	1	100	1	250	20	0	0	0	0	0	0	0	0	0	0	0;
	2	0	0	300	-300	1	100	1	200	10	0	0	0	0	0	0	0	0	0	0	0;
	4	0	0	300	-300	1	100	1	80	0	0	0	0	0	0	0	0	0	0	0	0;
	3	0	0	300	-300	1	100	0	100	0	0	0	0	0	0	0	0	0	0	0	0;
	5	0	0	300	-300	1	100	1	50	0	0	0	0	0	0	0	0	0	0	0	0;
];

%% branch data
%	fbus	tbus	r	x	b	rateA	rateB	rateC	ratio	angle	status	angmin	angmax
mpc.branch = [
	1	2	0.01	0.06	0.03	120	120	120	0	0	1	-360	360;
	1	2	0.02	0.12	0.02	50	50	50	0	0	1	-360	360;
	1	3	0	0.08	0	0	0	0	1.05	0	1	-360	360;
	2	4	0	0.1	0	200	200	200	0.98	0	1	-360	360;
	3	4	0.01	0.05	0.01	60	60	60	0	0	1	-360	360;
	2	3	0.01	0.07	0.01	100	100	100	0	0	0	-360	360;
	4	5	0.01	0.1	0.01	100	100	100	0	0	1	-360	360;
];

%%-----  OPF Data  -----%%
%% generator cost data
%	1	startup	shutdown	n	x1	y1	...	xn	yn
%	2	startup	shutdown	n	c(n-1)	...	c0
mpc.gencost = [
	2	500	0	2	25	100;
	1	0	0	4	0	0	50	1000	100	2500 ...
		150	4500;
	2	0	0	3	0	35	0;
	2	0	0	2	10	0;
	2	0	0	2	10	0;
];

%% bus names
mpc.bus_name = {
	'North 230';
	'East 230';
	'South''s 115';
	'West 115';
	'Island';
};
