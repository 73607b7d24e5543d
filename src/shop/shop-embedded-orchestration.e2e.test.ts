import { describeEmbeddedShop } from './shop-embedded-suite.js';

describeEmbeddedShop('orchestration');
