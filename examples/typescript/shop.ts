/** Synthesizes the chart of shop-chart.ts. Usage: node lib/shop.js [output folder, default dist] */
import { App } from 'cdk8s';
import { buildShop } from './shop-chart';

const app = new App({ outdir: process.argv[2] ?? 'dist' });
buildShop(app);
app.synth();
