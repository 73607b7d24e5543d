import { describeEmbeddedShop } from './shop-embedded-fixture.js';

describeEmbeddedShop('orchestration');
